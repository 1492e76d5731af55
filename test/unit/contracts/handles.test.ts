/**
 * The check behind every contract suite's "close: … nothing left running" test can fail: a
 * listening server, a connected socket or a ref'd timer left behind is reported by type; closed
 * (or unref'd) they are not. The baseline is taken once the process's resources have settled, since
 * this file shares its process with the other unit tests.
 */
import { createServer, connect, type Server } from 'node:net'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { settledNoNewHandles } from '../../contracts/handles.js'

async function listening(): Promise<Server> {
  const server = createServer((socket) => socket.on('error', () => {}))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return server
}

async function failure(work: Promise<void>): Promise<string> {
  try {
    await work
  } catch (err) {
    return (err as Error).message
  }
  return 'no failure'
}

test('a server left listening fails the check; closed, it passes', async () => {
  const handles = await settledNoNewHandles()
  const server = await listening()
  assert.match(await failure(handles.assertNone(100)), /TCPServerWrap/)
  await new Promise<void>((resolve) => server.close(() => resolve()))
  await handles.assertNone()
})

test('a connected socket left open fails the check; destroyed, it passes', async () => {
  const server = await listening()
  const handles = await settledNoNewHandles()
  const socket = connect((server.address() as { port: number }).port, '127.0.0.1')
  await new Promise<void>((resolve) => socket.once('connect', resolve))
  assert.match(await failure(handles.assertNone(100)), /TCPSocketWrap/)
  socket.destroy()
  await handles.assertNone()
  server.close()
})

test("a ref'd timer fails the check; unref'd or cleared, it passes", async () => {
  const handles = await settledNoNewHandles()
  const timer = setInterval(() => {}, 60_000)
  assert.match(await failure(handles.assertNone(100)), /Timeout/)
  timer.unref()
  await handles.assertNone()
  clearInterval(timer)
})

test.run()
