/**
 * Over real TCP on 127.0.0.1: MAX_SESSIONS (the next connect gets ERROR SERVER_FULL and is closed),
 * and malformed input closes only the offending session.
 */
import { connect } from 'node:net'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ClientConnection } from '../../app/client/connection.js'
import { decodeErrorPayload } from '../../app/protocol/error-frame.js'
import { encodeFrame } from '../../app/protocol/header.js'
import { FrameType, WireError } from '../../app/protocol/types.js'
import { startServer } from '../harness/net-server.js'
import { eventually } from '../harness/eventually.js'

const full = suite('net: MAX_SESSIONS')

full('the connect past MAX_SESSIONS gets ERROR SERVER_FULL and is closed; a slot that frees up is reused', async () => {
  const ts = await startServer({ MAX_SESSIONS: '3' })
  try {
    const admitted = [await ts.connect(), await ts.connect(), await ts.connect()]
    await Promise.all(admitted.map((c) => c.ping()))
    const refused = await ClientConnection.connect({ host: '127.0.0.1', port: ts.address.port })
    const error = await refused.waitFor(FrameType.ERROR, 3000)
    assert.is(decodeErrorPayload(error.payload).code, WireError.SERVER_FULL)
    await refused.closed
    assert.is(ts.server.stats().rejected, 1)
    assert.is(ts.server.stats().closedByReason['server-full'], 1)
    assert.is(ts.server.activeSessions, 3)
    await Promise.all(admitted.map((c) => c.ping()))

    await admitted[0]!.close()
    await eventually(() => ts.server.activeSessions === 2, 2000, 'slot freed')
    const late = await ts.connect()
    assert.ok((await late.ping()) >= 0, 'a new client is served once a slot is free')
  } finally {
    await ts.stop()
  }
})

full('regression: a refused client that keeps sending held its socket open past the close grace (idle timeout instead of a deadline)', async () => {
  const ts = await startServer({ MAX_SESSIONS: '1' }, { closeGraceMs: 300 })
  try {
    const admitted = await ts.connect()
    await admitted.ping()
    const refusedAt = performance.now()
    const closedAfterMs = await new Promise<number>((resolve, reject) => {
      // allowHalfOpen: the server's FIN does not end our side, so we can keep sending.
      const socket = connect({ host: '127.0.0.1', port: ts.address.port, allowHalfOpen: true })
      socket.on('error', () => {})
      socket.resume()
      // Keep sending (and ignore the ERROR frame and the FIN) so the socket never goes idle.
      const chatter = setInterval(() => socket.write(Buffer.from([0])), 20)
      const giveUp = setTimeout(() => {
        clearInterval(chatter)
        socket.destroy()
        reject(new Error('the refused socket was still open after 3 s'))
      }, 3000)
      socket.on('close', () => {
        clearInterval(chatter)
        clearTimeout(giveUp)
        resolve(performance.now() - refusedAt)
      })
    })
    assert.ok(closedAfterMs < 2000, `closed after ${closedAfterMs.toFixed(0)} ms`)
    assert.is(ts.server.stats().rejected, 1)
  } finally {
    await ts.stop()
  }
})

full.run()

const malformed = suite('net: malformed input closes only that session')

const cases: { name: string; bytes: Buffer; code: number }[] = [
  { name: 'size < 12', bytes: Buffer.from([5, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]), code: WireError.MALFORMED_FRAME },
  { name: 'size > MAX_FRAME_BYTES', bytes: Buffer.from([0xff, 0xff, 4, 0]), code: WireError.FRAME_TOO_LARGE },
  { name: 'BATCH from a client', bytes: encodeFrame(FrameType.BATCH, 9, 0, Buffer.alloc(8)), code: WireError.BATCH_FROM_CLIENT },
  { name: 'player_id before login', bytes: encodeFrame(FrameType.MOVE, 9, 77, Buffer.alloc(8)), code: WireError.PLAYER_ID_MISMATCH },
]

for (const c of cases) {
  malformed(`${c.name}: ERROR ${c.code}, that session closed, the bystander unaffected`, async () => {
    const ts = await startServer()
    try {
      const bystander = await ts.connect()
      const offender = await ts.connect()
      const error = offender.waitFor(FrameType.ERROR, 3000)
      offender.sendRaw(c.bytes)
      assert.is(decodeErrorPayload((await error).payload).code, c.code)
      await offender.closed
      await eventually(() => ts.dispatcher.disconnects.length === 1, 2000, 'disconnect')
      assert.is(ts.dispatcher.disconnects[0]!.reason, 'protocol-violation')
      assert.is(bystander.status, 'open')
      assert.ok((await bystander.ping()) >= 0, 'bystander still answered')
      assert.is(ts.server.activeSessions, 1)
    } finally {
      await ts.stop()
    }
  })
}

malformed('garbage from raw sockets never takes the server down; every offender is closed', async () => {
  const ts = await startServer({ MAX_VIOLATIONS: '2' })
  try {
    const bystander = await ts.connect()
    let seed = 42
    const random = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff
    const offenders = Array.from({ length: 20 }, (_, i) =>
      new Promise<void>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port: ts.address.port }, () => {
          const junk = Buffer.from(Array.from({ length: 64 + i * 37 }, random))
          junk[0] = 200 // declared size within bounds so some of it parses as frames of unknown types
          junk[1] = 0
          socket.end(junk)
        })
        socket.on('error', () => {})
        socket.resume()
        socket.on('close', () => resolve())
      }),
    )
    await Promise.all(offenders)
    await eventually(() => ts.server.activeSessions === 1, 3000, 'offenders gone')
    assert.ok((await bystander.ping()) >= 0)
    assert.is(ts.server.stats().accepted, 21)
  } finally {
    await ts.stop()
  }
})

malformed.run()
