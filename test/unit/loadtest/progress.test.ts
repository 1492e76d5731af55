import { Writable } from 'node:stream'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { LatencyHistogram } from '../../../app/loadtest/histogram.js'
import { emptySample } from '../../../app/loadtest/interval.js'
import { formatProgress, ProgressLine } from '../../../app/loadtest/progress.js'

function sink(isTTY: boolean): Writable & { text: string; isTTY: boolean } {
  const out = new Writable({
    write(chunk, _encoding, done) {
      out.text += String(chunk)
      done()
    },
  }) as Writable & { text: string; isTTY: boolean }
  out.text = ''
  out.isTTY = isTTY
  return out
}

function second(n: number, rtts: number[], errors = 0): ReturnType<typeof emptySample> {
  const s = emptySample(n)
  const h = new LatencyHistogram()
  for (const r of rtts) h.recordMs(r)
  s.histogram = h.toJSON()
  s.answered = rtts.length
  s.connected = 4
  s.errors = errors
  return s
}

test('one line per second with p99 and errors so far (not a TTY)', () => {
  const out = sink(false)
  const progress = new ProgressLine(out, 30)
  progress.update(second(0, [1, 1, 50]))
  progress.update(second(1, [1, 1], 2))
  progress.end()
  assert.equal(out.text.split('\n'), [
    '[ 1/30s] players 4  req/s 3  p99 50.000 ms  errors 0  disconnects 0',
    '[ 2/30s] players 4  req/s 2  p99 50.000 ms  errors 2  disconnects 0',
    '',
  ])
})

test('on a TTY the line is rewritten in place and ended once', () => {
  const out = sink(true)
  const progress = new ProgressLine(out, 5)
  progress.update(second(0, [2]))
  progress.update(second(1, [2]))
  progress.end()
  assert.is(out.text.split('\r\x1b[2K').length, 3)
  assert.ok(out.text.endsWith('\n'))
  assert.is(out.text.split('\n').length, 2)
})

test('without a known total the clock shows elapsed seconds only', () => {
  assert.is(formatProgress({ second: 7, totalSeconds: 0, connected: 1, perSecond: 2, p99Ms: 0.5, errors: 0, disconnects: 1, label: 'capacity step 2/3:' }), '[7s] capacity step 2/3: players 1  req/s 2  p99 0.500 ms  errors 0  disconnects 1')
})

test.run()
