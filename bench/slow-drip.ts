/**
 * Slow-drip (slowloris) and descriptor exhaustion against one game server process, with
 * legitimate clients measured alongside — the figures of docs/SECURITY.md.
 *
 *   npx tsx bench/slow-drip.ts [--attackers 1500] [--ulimit 1024] [--hold-s 15] [--protections off]
 *                              [--root DIR]   (another checkout's app/main.ts, e.g. an older commit)
 *
 * The server runs under `ulimit -n`; attackers connect from 127.0.9.x (spread over 50 addresses)
 * and each drips one byte of a frame every second; after --hold-s seconds it reports how many
 * dripping connections the server still holds, and how 30 fresh legitimate clients (connect +
 * PING from 127.0.0.1) fared: answered, refused with an error frame (which), or reset/timed out.
 * `--protections off` sets FRAME_DEADLINE_MS=0 and MAX_CONNECTIONS_PER_ADDRESS=0 (the behaviour
 * before they existed); the descriptor-derived cap cannot be switched off (use --root for that).
 */
import { spawn } from 'node:child_process'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import { ClientConnection } from '../app/client/connection.js'
import { decodeErrorPayload } from '../app/protocol/error-frame.js'
import { FrameType, WireError } from '../app/protocol/types.js'
import { formatMachineFacts } from './machine.js'

const { values } = parseArgs({ options: { attackers: { type: 'string' }, ulimit: { type: 'string' }, 'hold-s': { type: 'string' }, protections: { type: 'string' }, root: { type: 'string' } } })
const ATTACKERS = Number(values.attackers ?? 1500)
const ULIMIT = Number(values.ulimit ?? 1024)
const HOLD_S = Number(values['hold-s'] ?? 15)
const root = values.root ?? fileURLToPath(new URL('../', import.meta.url))
const protectionsOff = values.protections === 'off'
const names = new Map<number, string>(Object.entries(WireError).map(([k, v]) => [v, k]))

async function main(): Promise<void> {
  console.log(formatMachineFacts())
  const env = { ...process.env, GAME_HOST: '127.0.0.1', GAME_PORT: '0', METRICS_PORT: '0', METRICS_HOST: '127.0.0.1', DATABASE_URL: '', REDIS_URLS: '', LOG_LEVEL: 'info', ...(protectionsOff ? { FRAME_DEADLINE_MS: '0', MAX_CONNECTIONS_PER_ADDRESS: '0' } : {}) }
  const child = spawn('bash', ['-c', `ulimit -n ${ULIMIT} && exec "$0" --import tsx ${join(root, 'app/main.ts')}`, process.execPath], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d))
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setInterval(() => {
      const line = output.split('\n').find((l) => l.includes('"event":"listening"'))
      if (line) {
        clearInterval(timer)
        resolve((JSON.parse(line) as { port: number }).port)
      }
      if (child.exitCode !== null) reject(new Error(output))
    }, 50)
  })
  const attackers: { socket: Socket; closed: boolean; error: number | null }[] = []
  for (let i = 0; i < ATTACKERS; i++) {
    const socket = connect({ host: '127.0.0.1', port, localAddress: `127.0.9.${1 + (i % 50)}` })
    const a = { socket, closed: false, error: null as number | null }
    socket.on('error', () => {})
    socket.on('close', () => (a.closed = true))
    socket.on('data', (d: Buffer) => {
      if (a.error === null && d.length >= 14 && d.readUInt16LE(2) === FrameType.ERROR) a.error = decodeErrorPayload(d.subarray(12, d.readUInt16LE(0))).code
    })
    attackers.push(a)
    if (i % 100 === 99) await new Promise((r) => setTimeout(r, 20))
  }
  const frame = Buffer.alloc(100)
  frame.writeUInt16LE(100, 0)
  frame.writeUInt16LE(FrameType.PING, 2)
  let second = 0
  const drip = setInterval(() => {
    for (const a of attackers) if (!a.closed) a.socket.write(frame.subarray(second % 100, (second % 100) + 1))
    second++
  }, 1000)
  await new Promise((r) => setTimeout(r, HOLD_S * 1000))
  const held = attackers.filter((a) => !a.closed).length
  const byError: Record<string, number> = {}
  for (const a of attackers) if (a.error !== null) byError[names.get(a.error) ?? String(a.error)] = (byError[names.get(a.error) ?? String(a.error)] ?? 0) + 1

  const legit: Record<string, number> = {}
  const times: number[] = []
  for (let i = 0; i < 30; i++) {
    const started = performance.now()
    try {
      const client = await ClientConnection.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.1', timeoutMs: 3000, connectTimeoutMs: 3000 })
      const first = await Promise.race([client.ping().then(() => null), client.waitFor(FrameType.ERROR).then((f) => decodeErrorPayload(f.payload).code)])
      client.destroy()
      if (first === null) {
        legit.answered = (legit.answered ?? 0) + 1
        times.push(performance.now() - started)
      } else legit[names.get(first) ?? String(first)] = (legit[names.get(first) ?? String(first)] ?? 0) + 1
    } catch (err) {
      const code = (err as { cause?: { code?: string }; code?: string }).cause?.code ?? (err as { code?: string }).code ?? 'error'
      legit[code] = (legit[code] ?? 0) + 1
    }
  }
  times.sort((a, b) => a - b)
  clearInterval(drip)
  for (const a of attackers) a.socket.destroy()
  child.kill('SIGTERM')
  await new Promise((r) => child.once('exit', r))
  const emfile = (output.match(/EMFILE/g) ?? []).length
  const listening = output.split('\n').find((l) => l.includes('game server listening')) ?? ''
  const cap = /"maxSessions":(\d+)/.exec(listening)?.[1] ?? '?'
  console.log(`ulimit -n ${ULIMIT}, session cap ${cap}, ${ATTACKERS} dripping connections from 50 addresses, protections ${protectionsOff ? 'off' : 'on'}${values.root ? ` (server from ${root})` : ''}`)
  console.log(`  after ${HOLD_S} s: ${held} dripping connections still held by the server; refused/closed with: ${JSON.stringify(byError)}`)
  console.log(`  30 fresh legitimate clients: ${JSON.stringify(legit)}${times.length ? `, connect+PING p50 ${times[Math.floor(times.length / 2)]!.toFixed(1)} ms, max ${times[times.length - 1]!.toFixed(1)} ms` : ''}`)
  console.log(`  EMFILE in the server's log: ${emfile} line(s)`)
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
