/**
 * A load-generator worker thread: runs `LoadGenerator` for its share of the players and posts an
 * IntervalSample per second to the parent; stops early on a `{ kind: 'stop' }` message.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { driverFor } from './actions.js'
import { LoadGenerator, type Target } from './generator.js'
import type { Scenario } from './scenario.js'

export interface WorkerInput {
  readonly entry: string
  readonly scenario: Scenario
  readonly targets: readonly Target[]
  readonly workerIndex: number
  readonly workerCount: number
  readonly runId: string
}

export type WorkerMessage =
  | { kind: 'interval'; sample: import('./interval.js').IntervalSample }
  | { kind: 'ready' }
  | { kind: 'done' }
  | { kind: 'error'; message: string; code?: string }

const input = workerData as WorkerInput
const port = parentPort!
const stop = new AbortController()
let go: () => void = () => {}
const started = new Promise<void>((resolve) => (go = resolve))
port.on('message', (message: { kind: string }) => {
  if (message.kind === 'stop') {
    stop.abort()
    go()
  } else if (message.kind === 'start') go()
})

try {
  const driver = await driverFor(input.scenario)
  port.postMessage({ kind: 'ready' } satisfies WorkerMessage)
  await started
  const generator = new LoadGenerator({
    scenario: input.scenario,
    targets: input.targets,
    driver,
    workerIndex: input.workerIndex,
    workerCount: input.workerCount,
    runId: input.runId,
    signal: stop.signal,
    onInterval: (sample) => port.postMessage({ kind: 'interval', sample } satisfies WorkerMessage),
  })
  await generator.run()
  port.postMessage({ kind: 'done' } satisfies WorkerMessage)
} catch (err) {
  port.postMessage({ kind: 'error', message: (err as Error).message, code: (err as { code?: string }).code } satisfies WorkerMessage)
}

