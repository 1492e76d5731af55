/**
 * A backend dies and comes back, with real game servers behind the balancer: marked down within
 * fall × interval, every new connection succeeds meanwhile (retry) and afterwards, sessions on the
 * survivors are untouched; restarted on its port it is back in rotation after rise × interval.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { ClientConnection } from '../../app/client/connection.js'
import { Harness } from '../harness/index.js'

import { backendIdOf, connectVia, restartBackend, startBackend, balancerInFront, whoServes, type TaggedBackend } from './balancer-support.js'
import { eventually } from '../harness/eventually.js'

const test = suite('balancer failover')
const INTERVAL_MS = 100
const RISE = 2
const FALL = 2
/** Scheduling slack on a loaded 2-core machine. */
const SLACK_MS = 250

let h: Harness
let backends: TaggedBackend[]
const clients: ClientConnection[] = []

test.before(async () => {
  h = new Harness()
  backends = []
  for (let i = 0; i < 3; i++) backends.push(await startBackend(i))
  for (const b of backends) h.own({ stop: () => b.server.stop() })
})

test.after(async () => {
  for (const c of clients) c.destroy()
  await h.close()
})

async function waitState(get: () => string | undefined, want: string, timeoutMs: number): Promise<number> {
  const started = performance.now()
  await eventually(() => get() === want, timeoutMs, `state ${want}`)
  return performance.now() - started
}

test('killed backend: down within fall × interval, no failed connect, survivors untouched; restarted: back after rise × interval', async () => {
  const balancer = h.own(
    await balancerInFront(backends, { BALANCE_STRATEGY: 'round-robin', HEALTH_CHECK_INTERVAL_MS: String(INTERVAL_MS), HEALTH_CHECK_RISE: String(RISE), HEALTH_CHECK_FALL: String(FALL) }),
  )
  const stateOf = (b: TaggedBackend): string | undefined => balancer.pool.get(backendIdOf(b))?.state
  const before: { client: ClientConnection; on: number }[] = []
  for (let i = 0; i < 6; i++) {
    const client = await connectVia(balancer)
    clients.push(client)
    before.push({ client, on: await whoServes(client) })
  }
  assert.equal(before.map((x) => x.on).sort(), [0, 0, 1, 1, 2, 2])

  const victim = backends[0]!
  await victim.server.stop()
  const killedAt = performance.now()
  // New connections right after the kill (before the checks noticed) still all succeed.
  const during: number[] = []
  for (let i = 0; i < 6; i++) {
    const client = await connectVia(balancer)
    clients.push(client)
    during.push(await whoServes(client))
  }
  assert.not.ok(during.includes(0), `served ${during}`)
  await eventually(() => stateOf(victim) === 'unhealthy', FALL * INTERVAL_MS + 2000, 'victim down')
  const downAfterMs = performance.now() - killedAt
  assert.ok(downAfterMs <= FALL * INTERVAL_MS + SLACK_MS, `marked down after ${downAfterMs.toFixed(0)} ms`)

  const after: number[] = []
  for (let i = 0; i < 8; i++) {
    const client = await connectVia(balancer)
    clients.push(client)
    after.push(await whoServes(client))
  }
  assert.equal([...new Set(after)].sort(), [1, 2])
  assert.is(balancer.status().proxy.noBackend, 0)
  // Sessions on the survivors: still open and answering; those on the victim are closed.
  for (const { client, on } of before) {
    if (on === 0) {
      await client.closed
    } else {
      assert.is(client.status, 'open')
      assert.is(await whoServes(client), on)
    }
  }

  await restartBackend(victim)
  const upAfterMs = await waitState(() => stateOf(victim), 'healthy', RISE * INTERVAL_MS + 2000)
  assert.ok(upAfterMs <= RISE * INTERVAL_MS + INTERVAL_MS + SLACK_MS, `back after ${upAfterMs.toFixed(0)} ms`)
  const back: number[] = []
  for (let i = 0; i < 3; i++) {
    const client = await connectVia(balancer)
    clients.push(client)
    back.push(await whoServes(client))
  }
  assert.ok(back.includes(0), `served ${back}`)
  await balancer.close(1000)
})

test.run()
