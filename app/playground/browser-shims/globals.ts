/** Node globals the shared client code uses, for the browser bundle (esbuild `inject`). */
// 'buffer/': the npm package, not Node's built-in module of the same name
import { Buffer } from 'buffer/'

const process = { nextTick: (callback: () => void): void => queueMicrotask(callback) }

/** @public esbuild injects these where the bundle uses the globals */
export { Buffer, process }
