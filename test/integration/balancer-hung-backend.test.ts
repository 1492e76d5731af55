/**
 * A backend that accepts connections but never answers (SIGSTOPped, a stuck event loop): the
 * balancer's PING probe of each fresh backend connection finds it within
 * BACKEND_RESPONSE_TIMEOUT_MS, the client goes to another backend, and after HEALTH_CHECK_FALL
 * such failures the backend is marked down, long before the periodic health checks would.
 */
import { createServer, type Server, type Socket } from 'node:net'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Harness } from '../harness/index.js'
import { eventually } from '../harness/eventually.js'
import { connectVia, startBackend, balancerInFront, whoServes, type TaggedBackend } from './balancer-support.js'
import { listeningPort, spawnServer } from './game-support.js'

const test = suite('balancer: hung backend detected by the response probe, clients retried elsewhere')

test('clients routed to a hung backend are served by another within the probe bound; the hung one goes down', async () => {
  const h = new Harness()
  const sockets: Socket[] = []
  const hung: Server = createServer((socket) => {
    socket.on('error', () => {})
    sockets.push(socket) // accepted by the kernel and the process, never answered
  })
  try {
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', () => resolve()))
    const hungPort = (hung.address() as { port: number }).port
    const live: TaggedBackend = await startBackend(1)
    h.own(live.server)
    // slow periodic checks, as in production: only the probe can find the hung backend quickly
    const balancer = h.own(await balancerInFront([live], {
      BACKENDS: `127.0.0.1:${hungPort},127.0.0.1:${live.port}`,
      BALANCE_STRATEGY: 'round-robin',
      HEALTH_CHECK_INTERVAL_MS: '60000',
      HEALTH_CHECK_FALL: '3',
      BACKEND_RESPONSE_TIMEOUT_MS: '300',
    }))
    const times: number[] = []
    for (let i = 0; i < 8; i++) {
      const started = performance.now()
      const client = await connectVia(balancer)
      assert.is(await whoServes(client), 1, 'served by the live backend')
      times.push(performance.now() - started)
      client.destroy()
    }
    const hungBackend = balancer.pool.get(`127.0.0.1:${hungPort}`)!
    assert.is(hungBackend.state, 'unhealthy', 'marked down after HEALTH_CHECK_FALL failed probes')
    // a fresh backend goes down at its first failure (HAProxy's start state), an established one after FALL
    assert.ok(hungBackend.connectFailures >= 1 && hungBackend.connectFailures <= 3, `probe failures ${hungBackend.connectFailures}`)
    // a client that met the hung backend waited one probe bound (300 ms) plus the retry, not 7–9 s
    assert.ok(Math.max(...times) < 2500, `slowest client ${Math.max(...times).toFixed(0)} ms`)
    console.log(`    probe 300 ms: 8 clients served, slowest connect+request ${Math.max(...times).toFixed(0)} ms; hung backend down after ${hungBackend.connectFailures} failed probe(s)`)
    await balancer.close(500)

    // the same without the probe (the behaviour before it): a client sent to the hung backend waits
    const unprobed = h.own(await balancerInFront([live], {
      BACKENDS: `127.0.0.1:${hungPort},127.0.0.1:${live.port}`,
      BALANCE_STRATEGY: 'round-robin',
      HEALTH_CHECK_INTERVAL_MS: '60000',
      BACKEND_RESPONSE_TIMEOUT_MS: '0',
    }))
    const outcomes = await Promise.all([0, 1].map(async () => {
      const client = await connectVia(unprobed)
      try {
        await client.request(0x02, Buffer.from('who'), { timeoutMs: 1500 })
        return 'answered'
      } catch {
        return 'no answer within 1.5 s'
      } finally {
        client.destroy()
      }
    }))
    assert.ok(outcomes.includes('no answer within 1.5 s'), `without the probe one of two round-robin clients hangs: ${outcomes.join(', ')}`)
    await unprobed.close(500)
  } finally {
    for (const s of sockets) s.destroy()
    hung.close()
    await h.close()
  }
})

test('a real game server SIGSTOPped, balancer at its default timings: detected at the first client sent to it, every client served', async () => {
  const h = new Harness()
  const servers = [spawnServer(h, { NODE_ID: 'hung-a' }), spawnServer(h, { NODE_ID: 'hung-b' })]
  let stopped: (typeof servers)[number] | undefined
  try {
    const ports = await Promise.all(servers.map((s) => listeningPort(s)))
    // the shipped defaults: health checks every 2 s, down after 3 failures, probe bound 1 s
    const balancer = h.own(await balancerInFront([], {
      BACKENDS: ports.map((p) => `127.0.0.1:${p}`).join(','),
      BALANCE_STRATEGY: 'round-robin',
      HEALTH_CHECK_INTERVAL_MS: '2000',
      HEALTH_CHECK_TIMEOUT_MS: '1000',
      HEALTH_CHECK_FALL: '3',
      BACKEND_RESPONSE_TIMEOUT_MS: '1000',
    }))
    await eventually(() => balancer.pool.list().every((b) => b.state === 'healthy'), 10_000, 'both game servers healthy')
    stopped = servers[0]!
    const stoppedBackend = balancer.pool.get(`127.0.0.1:${ports[0]}`)!
    stopped.signal('SIGSTOP')
    const stoppedAt = performance.now()
    const times: number[] = []
    let detectedMs = Number.NaN
    for (let i = 0; i < 6; i++) {
      const started = performance.now()
      const client = await connectVia(balancer)
      await client.ping(undefined, 5000)
      times.push(performance.now() - started)
      client.destroy()
      if (Number.isNaN(detectedMs) && stoppedBackend.state === 'unhealthy') detectedMs = performance.now() - stoppedAt
    }
    assert.is(stoppedBackend.state, 'unhealthy', 'the stopped server is down')
    // before the probe: 7–9 s until the health checks took it down, clients sent there meanwhile hung
    assert.ok(detectedMs < 2500, `detected after ${detectedMs.toFixed(0)} ms`)
    assert.ok(Math.max(...times) < 2500, `slowest client ${Math.max(...times).toFixed(0)} ms`)
    console.log(`    SIGSTOP, defaults (probe 1 s): stopped server down ${detectedMs.toFixed(0)} ms after the stop (at the first client routed to it); 6 clients all served, slowest connect+PING ${Math.max(...times).toFixed(0)} ms`)
    await balancer.close(500)
  } finally {
    stopped?.signal('SIGCONT')
    await h.close()
  }
})

test.run()
