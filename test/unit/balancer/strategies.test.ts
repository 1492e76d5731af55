import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Backend } from '../../../app/balancer/backend.js'
import { BackendPool } from '../../../app/balancer/backend-pool.js'
import { createStrategy, type StrategyName } from '../../../app/balancer/strategies.js'
import { loadConfig } from '../../../app/config/index.js'

/** The balancer's settings from the config table's defaults. */
const SETTINGS = loadConfig({}).balancer
const BACKEND = { fall: SETTINGS.healthCheckFall, ewmaAlpha: SETTINGS.latencyEwmaAlpha }
const STRATEGY = { connectionWeightMs: SETTINGS.connectionWeightMs }

const test = suite('balancer strategies')

interface Spec {
  id: string
  connections?: number
  latencyMs?: number
  weight?: number
  bottleneck?: boolean
}

function backends(specs: Spec[]): Backend[] {
  return specs.map((s) => {
    const backend = new Backend({ host: s.id, port: 1 }, { ...BACKEND, weight: s.weight ?? 1 })
    backend.activeConnections = s.connections ?? 0
    if (s.latencyMs !== undefined) backend.recordLatency(s.latencyMs)
    if (s.bottleneck) backend.bottleneckNames = ['cpu']
    return backend
  })
}

/** Pick `n` times; `hold` keeps each pick as an open connection (acquire without release). */
function sequence(name: StrategyName, list: Backend[], n: number, hold: boolean): string[] {
  const strategy = createStrategy(name, STRATEGY)
  const out: string[] = []
  for (let i = 0; i < n; i++) {
    const picked = strategy.pick(list)!
    if (hold) picked.acquire()
    out.push(picked.host)
  }
  return out
}

const table: { name: string; strategy: StrategyName; backends: Spec[]; picks: number; hold: boolean; expected: string }[] = [
  { name: 'round-robin cycles in order', strategy: 'round-robin', backends: [{ id: 'a' }, { id: 'b' }, { id: 'c' }], picks: 7, hold: false, expected: 'a b c a b c a' },
  { name: 'round-robin ignores open connections', strategy: 'round-robin', backends: [{ id: 'a', connections: 50 }, { id: 'b' }, { id: 'c' }], picks: 6, hold: true, expected: 'a b c a b c' },
  { name: 'round-robin weight 2:1 interleaves smoothly', strategy: 'round-robin', backends: [{ id: 'a', weight: 2 }, { id: 'b' }], picks: 6, hold: false, expected: 'a b a a b a' },
  { name: 'round-robin: a bottlenecked backend gets a quarter share', strategy: 'round-robin', backends: [{ id: 'a' }, { id: 'b', bottleneck: true }], picks: 10, hold: false, expected: 'a a b a a a a b a a' },
  { name: 'least-connections fills the emptiest first', strategy: 'least-connections', backends: [{ id: 'a', connections: 2 }, { id: 'b' }, { id: 'c', connections: 1 }], picks: 6, hold: true, expected: 'b c b c a b' },
  { name: 'least-connections rotates on ties', strategy: 'least-connections', backends: [{ id: 'a' }, { id: 'b' }, { id: 'c' }], picks: 6, hold: false, expected: 'a b c a b c' },
  { name: 'least-connections: bottlenecked backend needs 4x fewer connections', strategy: 'least-connections', backends: [{ id: 'a' }, { id: 'b', bottleneck: true }], picks: 6, hold: true, expected: 'a a a b a a' },
  { name: 'weighted-response-time prefers low latency until connections add up', strategy: 'weighted-response-time', backends: [{ id: 'a', latencyMs: 1 }, { id: 'b', latencyMs: 25 }], picks: 5, hold: true, expected: 'a a a b a' },
  { name: 'weighted-response-time without measurements behaves like least-connections', strategy: 'weighted-response-time', backends: [{ id: 'a' }, { id: 'b' }, { id: 'c', connections: 1 }], picks: 4, hold: true, expected: 'a b c a' },
]

for (const row of table) {
  test(row.name, () => {
    assert.is(sequence(row.strategy, backends(row.backends), row.picks, row.hold).join(' '), row.expected)
  })
}

test('least-connections keeps counts within ±1 while sessions come and go', () => {
  const list = backends([{ id: 'a' }, { id: 'b' }, { id: 'c' }])
  const strategy = createStrategy('least-connections', STRATEGY)
  const held: Backend[] = []
  for (let i = 0; i < 300; i++) {
    const picked = strategy.pick(list)!
    picked.acquire()
    held.push(picked)
    if (i % 3 === 2) held.splice((i * 7) % held.length, 1)[0]!.release()
    // Releases may unbalance by one; picks never widen the gap beyond what releases made.
  }
  for (const b of list) b.activeConnections = 0
  for (let i = 0; i < 30; i++) strategy.pick(list)!.acquire()
  const counts = list.map((b) => b.activeConnections)
  assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `counts ${counts}`)
})

test('EWMA latency uses LATENCY_EWMA_ALPHA (0.1)', () => {
  const backend = new Backend({ host: 'x', port: 1 }, BACKEND)
  backend.recordLatency(10)
  backend.recordLatency(20)
  assert.ok(Math.abs(backend.ewmaLatencyMs! - 11) < 1e-9)
})

test('pool picks only healthy backends, honours exclusions, switches strategy at runtime', () => {
  const pool = new BackendPool('round-robin', STRATEGY)
  const changes: string[] = []
  pool.listen({ strategyChanged: (from, to) => changes.push(`${from}->${to}`), stateChanged: (b, from, to) => changes.push(`${b.id}:${from}->${to}`) })
  const a = pool.add({ host: 'a', port: 1 }, BACKEND)
  const b = pool.add({ host: 'b', port: 1 }, BACKEND)
  const c = pool.add({ host: 'c', port: 1 }, BACKEND)
  pool.setState(b, 'unhealthy', 'test')
  assert.equal([pool.pick(), pool.pick(), pool.pick()].map((x) => x!.host), ['a', 'c', 'a'])
  assert.is(pool.pick(new Set([a, c])), undefined)
  pool.setState(c, 'draining', 'test')
  pool.setState(c, 'healthy', 'draining is terminal')
  assert.is(c.state, 'draining')
  a.activeConnections = 5
  pool.setState(b, 'healthy', 'test')
  pool.setStrategy('least-connections')
  assert.is(pool.pick()!.host, 'b')
  assert.equal(changes, ['a:1:healthy->unhealthy'.replace('a:1', 'b:1'), 'c:1:healthy->draining', 'b:1:unhealthy->healthy', 'round-robin->least-connections'])
  try {
    pool.add({ host: 'a', port: 1 }, BACKEND)
    assert.unreachable()
  } catch (err) {
    assert.is((err as { code: string }).code, 'GS_ERR_BACKEND_EXISTS')
  }
  try {
    pool.remove('zz:1')
    assert.unreachable()
  } catch (err) {
    assert.is((err as { code: string }).code, 'GS_ERR_BACKEND_UNKNOWN')
  }
})

test.run()
