/**
 * The live progress line: once per merged second, players connected, req/s, p99 so far, errors,
 * disconnects. On a TTY it rewrites one line; otherwise one line per second (logs, CI).
 */
import { LatencyHistogram } from './histogram.js'
import type { IntervalSample } from './interval.js'

export class ProgressLine {
  private readonly soFar = new LatencyHistogram()
  private errors = 0
  private disconnects = 0
  private wrote = false

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean },
    private readonly totalSeconds: number,
    private readonly label = '',
  ) {}

  update(sample: IntervalSample, extra = ''): void {
    this.soFar.merge(sample.histogram)
    this.errors += sample.errors
    this.disconnects += sample.disconnects
    const line = formatProgress({
      second: sample.second + 1,
      totalSeconds: this.totalSeconds,
      connected: sample.connected,
      perSecond: sample.answered,
      p99Ms: this.soFar.percentileMs(99),
      errors: this.errors,
      disconnects: this.disconnects,
      label: `${this.label}${extra}`,
    })
    if (this.out.isTTY) this.out.write(`\r\x1b[2K${line}`)
    else this.out.write(`${line}\n`)
    this.wrote = true
  }

  /** End the rewritten line (TTY) before the summary is printed. */
  end(): void {
    if (this.wrote && this.out.isTTY) this.out.write('\n')
    this.wrote = false
  }
}

export function formatProgress(p: { second: number; totalSeconds: number; connected: number; perSecond: number; p99Ms: number; errors: number; disconnects: number; label?: string }): string {
  const width = String(p.totalSeconds).length
  const clock = p.totalSeconds > 0 ? `${String(p.second).padStart(width)}/${p.totalSeconds}s` : `${p.second}s`
  return `[${clock}]${p.label ? ` ${p.label}` : ''} players ${p.connected}  req/s ${p.perSecond}  p99 ${p.p99Ms.toFixed(3)} ms  errors ${p.errors}  disconnects ${p.disconnects}`
}
