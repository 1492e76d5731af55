/** Node globals the shared client code uses, for the browser bundle (esbuild `inject`). */
import { Buffer } from 'buffer'

const process = { nextTick: (callback: () => void): void => queueMicrotask(callback) }

export { Buffer, process }
