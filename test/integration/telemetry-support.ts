/** Shared pieces of the telemetry tests: scrape and parse /metrics, a timed (optionally slow) echo dispatcher. */
import type { Connection, FrameDispatcher, InboundFrame } from '../../app/net/connection.js'
import { frameTypeName } from '../../app/protocol/types.js'
import type { GameMetrics } from '../../app/game/metrics.js'

/** Series of one scrape: `name{a="x",b="y"}` (labels sorted, otel_scope_* dropped) → value. */
export type Scrape = Map<string, number>

export async function scrapeText(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`)
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`)
  return res.text()
}

export function parseExposition(text: string): Scrape {
  const out: Scrape = new Map()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line)
    if (!match) throw new Error(`unparsable exposition line: ${line}`)
    const labels = [...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)]
      .filter((m) => !m[1]!.startsWith('otel_scope_'))
      .map((m) => `${m[1]}="${m[2]}"`)
      .sort()
    out.set(`${match[1]}{${labels.join(',')}}`, Number(match[3] === '+Inf' ? Infinity : match[3]))
  }
  return out
}

export async function scrape(port: number): Promise<Scrape> {
  return parseExposition(await scrapeText(port))
}

/** The value of one series; labels as an object. */
export function series(scrape: Scrape, name: string, labels: Record<string, string> = {}): number | undefined {
  const key = `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',')}}`
  return scrape.get(key)
}

/** Every label set of a family (series whose name is exactly `name`). */
export function family(scrape: Scrape, name: string): string[] {
  return [...scrape.keys()].filter((k) => k.startsWith(`${name}{`))
}

/** Echo dispatcher that reports its handling time like the game's batch processor does; `delayMs` busy-waits. */
export class TimedEchoDispatcher implements FrameDispatcher {
  delayMs = 0
  handled = 0
  constructor(private readonly metrics: GameMetrics) {}

  dispatch(frame: InboundFrame): void {
    const started = performance.now()
    if (this.delayMs > 0) while (performance.now() - started < this.delayMs) {
      /* a deliberately slow handler: burn CPU like an expensive game rule would */
    }
    frame.connection.send(0x8004, frame.seq, frame.playerId, frame.payload)
    this.handled++
    this.metrics.frameProcessed(frameTypeName(frame.type), (performance.now() - started) / 1000)
  }

  disconnected(_connection: Connection): void {}
}
