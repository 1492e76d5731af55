/**
 * Runs a scenario on one or more generators and merges what they measure, second by second.
 * With `workers` > 1 each generator is a worker thread (own event loop, own core), so the
 * generator is less likely to be the bottleneck; their histograms are merged exactly (counts).
 */
import { performance } from 'node:perf_hooks'
import { Worker } from 'node:worker_threads'
import { GameServerError } from '../errors.js'
import { driverFor } from './actions.js'
import { LoadGenerator, type Target } from './generator.js'
import { addSample, emptySample, quantilesOf, TotalsAccumulator, type IntervalSample, type RunTotals } from './interval.js'
import type { Scenario } from './scenario.js'
import type { WorkerInput, WorkerMessage } from './worker.js'

export interface RunOptions {
  readonly scenario: Scenario
  readonly targets: readonly Target[]
  /** Generator threads; 1 = in this thread. */
  readonly workers: number
  readonly runId?: string
  /** Every merged second, in order, as soon as every generator reported it. */
  readonly onInterval?: (sample: IntervalSample) => void
  readonly signal?: AbortSignal
}

export interface RunResult {
  /** One merged sample per second (histograms of seconds older than the retention compacted). */
  readonly intervals: IntervalSample[]
  /** Whole-run RTT histograms. */
  readonly totals: RunTotals
  readonly startedAt: Date
  readonly elapsedSeconds: number
  readonly workers: number
  /** True when stopped by the signal before the scenario's end. */
  readonly aborted: boolean
}

interface GeneratorHandle {
  /** Resolves when the generator is loaded and waits for `start()`. */
  readonly ready: Promise<void>
  readonly done: Promise<void>
  start(): void
  stop(): void
}

/**
 * Merges per-generator samples by second; releases a second once every live generator sent it.
 * A sample arriving after its second was released (a generator that lagged) is still added to the
 * released sample and the totals, so the final figures are complete even when the live progress
 * was not. Memory stays bounded on long runs: the histograms of seconds older than
 * `retainHistogramSeconds` are folded into the run totals and replaced by their percentiles.
 */
export class IntervalMerger {
  private readonly pending = new Map<number, { sample: IntervalSample; reports: number }>()
  private readonly released = new Map<number, IntervalSample>()
  private readonly accumulator = new TotalsAccumulator()
  readonly merged: IntervalSample[] = []

  constructor(
    private generators: number,
    private readonly onInterval?: (sample: IntervalSample) => void,
    private readonly retainHistogramSeconds = 900,
  ) {}

  get totals(): RunTotals {
    return this.accumulator.totals()
  }

  add(sample: IntervalSample): void {
    const late = this.released.get(sample.second)
    if (late) {
      addSample(late, sample)
      this.accumulator.add(sample)
      return
    }
    const entry = this.pending.get(sample.second) ?? { sample: emptySample(sample.second), reports: 0 }
    addSample(entry.sample, sample)
    entry.reports++
    this.pending.set(sample.second, entry)
    this.release(false)
  }

  generatorFinished(): void {
    this.generators--
    this.release(false)
  }

  flush(): void {
    this.release(true)
  }

  private release(all: boolean): void {
    const seconds = [...this.pending.keys()].sort((a, b) => a - b)
    for (const second of seconds) {
      const entry = this.pending.get(second)!
      if (!all && entry.reports < this.generators) return
      this.pending.delete(second)
      this.released.set(second, entry.sample)
      this.merged.push(entry.sample)
      this.accumulator.add(entry.sample)
      this.onInterval?.(entry.sample)
      this.compact()
    }
  }

  private compact(): void {
    const old = this.merged[this.merged.length - 1 - this.retainHistogramSeconds]
    if (old === undefined || old.quantiles !== undefined) return
    old.quantiles = quantilesOf(old.histogram)
    old.histogram = emptySample(old.second).histogram
    for (const counts of Object.values(old.byAction)) delete counts.histogram
  }
}

function startInline(options: RunOptions, runId: string, onSample: (s: IntervalSample) => void): GeneratorHandle {
  const stop = new AbortController()
  let go: () => void = () => {}
  const started = new Promise<void>((resolve) => (go = resolve))
  const ready = driverFor(options.scenario)
  const done = (async () => {
    const driver = await ready
    await started
    const generator = new LoadGenerator({ scenario: options.scenario, targets: options.targets, driver, runId, signal: stop.signal, onInterval: onSample })
    await generator.run()
  })()
  return { ready: ready.then(() => {}), done, start: () => go(), stop: () => stop.abort() }
}

function startWorker(options: RunOptions, runId: string, workerIndex: number, onSample: (s: IntervalSample) => void): GeneratorHandle {
  // compiled (dist/, the Docker image): the worker is plain JS; under tsx the worker thread needs
  // the TypeScript loader registered first (worker-boot.mjs)
  const compiled = !import.meta.url.endsWith('.ts')
  const entry = new URL(compiled ? './worker.js' : './worker.ts', import.meta.url).href
  const input: WorkerInput = { entry, scenario: options.scenario, targets: options.targets, workerIndex, workerCount: options.workers, runId }
  const worker = new Worker(compiled ? new URL(entry) : new URL('./worker-boot.mjs', import.meta.url), { workerData: input })
  let onReady: () => void = () => {}
  const ready = new Promise<void>((resolve) => (onReady = resolve))
  const done = new Promise<void>((resolve, reject) => {
    let finished = false
    worker.on('message', (message: WorkerMessage) => {
      if (message.kind === 'interval') onSample(message.sample)
      else if (message.kind === 'ready') onReady()
      else if (message.kind === 'done') {
        // the worker's loader hooks (tsx) may keep its event loop alive: end it here
        finished = true
        void worker.terminate()
      }
      else if (message.kind === 'error') {
        finished = true
        void worker.terminate()
        reject(new GameServerError(message.code === 'GS_ERR_LOADTEST_SCENARIO' ? 'GS_ERR_LOADTEST_SCENARIO' : 'GS_ERR_LOADTEST_WORKER', `generator worker ${workerIndex}: ${message.message}`, { workerIndex }))
      }
    })
    worker.on('error', (err) => reject(new GameServerError('GS_ERR_LOADTEST_WORKER', `generator worker ${workerIndex} crashed: ${err.message}`, { workerIndex }, { cause: err })))
    worker.on('exit', (code) => {
      if (finished) resolve()
      else reject(new GameServerError('GS_ERR_LOADTEST_WORKER', `generator worker ${workerIndex} exited early with code ${code}`, { workerIndex, code }))
    })
  })
  return {
    ready,
    done,
    start: () => worker.postMessage({ kind: 'start' }),
    stop: () => worker.postMessage({ kind: 'stop' }),
  }
}

/** Run the scenario to its end (or the signal); resolves with every merged interval. */
export async function runLoad(options: RunOptions): Promise<RunResult> {
  if (!Number.isInteger(options.workers) || options.workers < 1) throw new RangeError('workers must be an integer >= 1')
  const runId = options.runId ?? `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`
  const merger = new IntervalMerger(options.workers, options.onInterval)
  const handles: GeneratorHandle[] = []
  for (let w = 0; w < options.workers; w++) {
    const onSample = (sample: IntervalSample): void => merger.add(sample)
    handles.push(options.workers === 1 ? startInline(options, runId, onSample) : startWorker(options, runId, w, onSample))
  }
  // every generator loaded (worker threads take a while) before any starts, so their seconds align
  await Promise.race([Promise.all(handles.map((h) => h.ready)), Promise.any(handles.map((h) => h.done)).catch(() => {})])
  // the run (and its time axis, which server series share) starts when the generators do
  const startedAt = new Date()
  const t0 = performance.now()
  for (const handle of handles) handle.start()
  let aborted = false
  const onAbort = (): void => {
    aborted = true
    for (const handle of handles) handle.stop()
  }
  options.signal?.addEventListener('abort', onAbort, { once: true })
  if (options.signal?.aborted) onAbort()
  try {
    const results = await Promise.allSettled(
      handles.map((h) =>
        h.done
          .catch((err: unknown) => {
            for (const handle of handles) handle.stop()
            throw err
          })
          .finally(() => merger.generatorFinished()),
      ),
    )
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) throw failed.reason
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
  }
  merger.flush()
  return { intervals: merger.merged, totals: merger.totals, startedAt, elapsedSeconds: (performance.now() - t0) / 1000, workers: options.workers, aborted }
}
