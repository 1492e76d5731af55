import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { cpuRatio, parseMeminfo, parseProcStat } from '../../../app/telemetry/system.js'

const test = suite('system readings parsers')

test('/proc/stat: busy excludes idle and iowait; guest is not counted twice', () => {
  const a = parseProcStat('cpu  100 0 50 800 50 0 0 0 7 0\ncpu0 1 2 3 4\n')
  assert.equal(a, { busy: 150, total: 1000 })
  const b = parseProcStat('cpu  190 0 60 1500 50 0 0 0 9 0\n')
  assert.ok(Math.abs(cpuRatio(a, b) - 100 / 800) < 1e-12)
  assert.is(cpuRatio(b, b), 0)
  assert.throws(() => parseProcStat('intr 1 2 3'))
})

test('/proc/meminfo: MemTotal and MemAvailable in bytes', () => {
  const m = parseMeminfo('MemTotal:       24683656 kB\nMemFree:         1000 kB\nMemAvailable:   23738580 kB\n')
  assert.equal(m, { totalBytes: 24683656 * 1024, availableBytes: 23738580 * 1024 })
  assert.throws(() => parseMeminfo('MemTotal: 1 kB\n'))
})

test.run()
