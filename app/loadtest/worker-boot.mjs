// Entry of a load-generator worker thread. Under tsx (npm run loadtest) the worker does not
// inherit the TypeScript loader, so register it before importing the .ts entry; a compiled build
// imports the .js entry directly.
import { workerData } from 'node:worker_threads'

if (workerData.entry.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api')
  register()
}
await import(workerData.entry)
