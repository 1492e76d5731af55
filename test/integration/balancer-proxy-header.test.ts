/**
 * Behind the balancer a game server sees the balancer's address for every player. With
 * BALANCER_SEND_PROXY_HEADER and TRUST_PROXY_HEADER (as the stack sets them) it learns each client's
 * own address from a PROXY v1 line: per-address login throttling and takeover notices work through
 * the balancer, and a client talking to the server directly is unaffected. The same over the
 * balancer's WebSocket front, whose PROXY line comes before the HTTP upgrade (WS_TRUST_PROXY_HEADER).
 */
import { connect as netConnect } from 'node:net'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import WebSocket from 'ws'
import type { WebSocketLike } from '../../app/client/websocket-stream.js'
import { GameClient } from '../../app/client/game-client.js'
import { isGameServerError } from '../../app/errors.js'
import { WireError } from '../../app/protocol/types.js'
import { decodeErrorPayload } from '../../app/protocol/error-frame.js'
import { FrameType } from '../../app/protocol/types.js'
import { Harness } from '../harness/index.js'
import { balancerInFront } from './balancer-support.js'
import { PASSWORD, startGame, uniqueUsername } from './game-support.js'

const test = suite('balancer → game server: client addresses relayed by PROXY header')

async function wireCode(work: Promise<unknown>): Promise<number | undefined> {
  try {
    await work
    return undefined
  } catch (err) {
    return isGameServerError(err, 'GS_ERR_REQUEST_REJECTED') ? (err.context.wireCode as number) : -1
  }
}

test('through the balancer: one address is throttled while another logs in; a takeover from another address is TAKEN_OVER', async () => {
  const h = new Harness()
  const game = await startGame({ TRUST_PROXY_HEADER: 'true', LOGIN_ADDRESS_BURST: '3' })
  try {
    const balancer = h.own(await balancerInFront([], { BACKENDS: `127.0.0.1:${game.handle.port}`, BALANCER_SEND_PROXY_HEADER: 'true' }))
    const via = (localAddress: string) => GameClient.connect({ host: '127.0.0.1', port: balancer.address()!.port, timeoutMs: 5000, localAddress })
    const name = uniqueUsername('relayed')
    const owner = await via('127.0.0.1')
    const ok = await owner.register(name, PASSWORD)

    const attacker = await via('127.0.7.1')
    const codes: (number | undefined)[] = []
    for (let i = 0; i < 5; i++) codes.push(await wireCode(attacker.login(name, 'wrong-password')))
    assert.equal(codes, [WireError.BAD_CREDENTIALS, WireError.BAD_CREDENTIALS, WireError.BAD_CREDENTIALS, WireError.LOGIN_THROTTLED, WireError.LOGIN_THROTTLED])
    const honest = await via('127.0.0.3')
    assert.is((await honest.login(uniqueUsername('nobody'), PASSWORD).catch((e) => e)).context.wireCode, WireError.BAD_CREDENTIALS, 'another address is not throttled')

    const notice = owner.connection.waitFor((f) => f.type === FrameType.ERROR && f.seq === 0)
    const thief = await via('127.0.0.2')
    await thief.loginWithToken(ok.token)
    assert.is(decodeErrorPayload((await notice).payload).code, WireError.TAKEN_OVER)
    const addresses = [...game.handle.server.connections()].map((c) => c.remoteAddress).sort()
    assert.ok(addresses.includes('127.0.0.2') && addresses.includes('127.0.7.1'), `the server sees client addresses: ${addresses.join(', ')}`)
    await balancer.close(500)
  } finally {
    await game.close()
    await h.close()
  }
})

test('a malformed PROXY line is refused and closed; without a header the connection is served as usual', async () => {
  const game = await startGame({ TRUST_PROXY_HEADER: 'true' })
  try {
    const direct = await GameClient.connect({ host: '127.0.0.1', port: game.handle.port, timeoutMs: 3000 })
    await direct.register(uniqueUsername('direct'), PASSWORD)
    const raw = await GameClient.connect({ host: '127.0.0.1', port: game.handle.port, timeoutMs: 3000 })
    const refused = raw.connection.waitFor(FrameType.ERROR)
    raw.connection.sendRaw(Buffer.from('PROXY TCP4 not-an-address 10.0.0.1 1 2\r\n'))
    assert.is(decodeErrorPayload((await refused).payload).code, WireError.MALFORMED_FRAME)
    await raw.connection.closed
  } finally {
    await game.close()
  }
})

test('through the WebSocket front: browser players are throttled per address, not as one balancer address', async () => {
  const h = new Harness()
  const game = await startGame({ TRUST_PROXY_HEADER: 'true', WS_TRUST_PROXY_HEADER: 'true', WS_PORT: '0', WS_PLAYGROUND: 'false', LOGIN_ADDRESS_BURST: '3' })
  try {
    const backend = `127.0.0.1:${game.handle.port}/${game.handle.webSocketPort}`
    const balancer = h.own(await balancerInFront([], { BACKENDS: backend, BALANCER_WS_PORT: '0', BALANCER_SEND_PROXY_HEADER: 'true' }))
    const via = (localAddress: string) => GameClient.connect({
      host: '127.0.0.1',
      port: balancer.webSocketAddress()!.port,
      transport: 'ws',
      timeoutMs: 5000,
      webSocket: (url) => new WebSocket(url, { localAddress }) as unknown as WebSocketLike,
    })
    const name = uniqueUsername('relayedws')
    await (await via('127.0.0.1')).register(name, PASSWORD)
    const attacker = await via('127.0.7.1')
    const codes: (number | undefined)[] = []
    for (let i = 0; i < 5; i++) codes.push(await wireCode(attacker.login(name, 'wrong-password')))
    assert.equal(codes, [WireError.BAD_CREDENTIALS, WireError.BAD_CREDENTIALS, WireError.BAD_CREDENTIALS, WireError.LOGIN_THROTTLED, WireError.LOGIN_THROTTLED])
    const honest = await via('127.0.0.3')
    assert.is(await wireCode(honest.login(name, PASSWORD)), undefined, 'another browser player logs in')
    const addresses = [...game.handle.server.connections()].map((c) => c.remoteAddress)
    assert.ok(addresses.includes('127.0.7.1') && addresses.includes('127.0.0.3'), `the server sees client addresses: ${addresses.join(', ')}`)
    await balancer.close(500)
  } finally {
    await game.close()
    await h.close()
  }
})

test('WS_TRUST_PROXY_HEADER: a browser without a PROXY line is served as usual; a malformed line closes the connection', async () => {
  const game = await startGame({ WS_TRUST_PROXY_HEADER: 'true' }, undefined, 'ws')
  try {
    const direct = await game.connect({ localAddress: '127.0.0.4' })
    await direct.register(uniqueUsername('directws'), PASSWORD)
    assert.ok([...game.handle.server.connections()].some((c) => c.remoteAddress === '127.0.0.4'))
    const reply = await new Promise<string>((resolve) => {
      const socket = netConnect({ host: '127.0.0.1', port: game.handle.webSocketPort! }, () => socket.write('PROXY TCP4 not-an-address 10.0.0.1 1 2\r\nGET /ws HTTP/1.1\r\n\r\n'))
      let bytes = ''
      socket.on('data', (chunk) => (bytes += chunk.toString('latin1')))
      socket.on('error', () => {})
      socket.on('close', () => resolve(bytes))
    })
    assert.is(reply, '', 'closed without an HTTP answer')
  } finally {
    await game.close()
  }
})

test.run()
