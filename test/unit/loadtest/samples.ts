/** Interval samples for the load-test unit tests: every RTT answered, all of them one action. */
import { LatencyHistogram } from '../../../app/loadtest/histogram.js'
import { emptySample, type IntervalSample } from '../../../app/loadtest/interval.js'
import type { ActionName } from '../../../app/loadtest/scenario.js'

export function sampleOf(second: number, rttsMs: readonly number[], action: ActionName, extra: Partial<IntervalSample> = {}): IntervalSample {
  const h = new LatencyHistogram()
  for (const r of rttsMs) h.recordMs(r)
  const s = emptySample(second)
  s.histogram = h.toJSON()
  s.answered = rttsMs.length
  s.sent = rttsMs.length
  s.byAction[action].ok = rttsMs.length
  s.byAction[action].histogram = h.toJSON()
  return Object.assign(s, extra)
}
