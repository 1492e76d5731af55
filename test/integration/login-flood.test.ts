/**
 * Login flood: connections from one attacking address loop wrong passwords for one account while
 * an honest player on another address logs in again and again. Measured twice on the same machine
 * in the same test — throttling off (LOGIN_*_BURST=0, the behaviour before it existed) and on
 * (the defaults) — with the server's real scrypt cost. The honest login's p99 is the figure.
 *
 * Bounded in size for `npm test`; the full attack of docs/SECURITY.md (300 connections) is the same
 * test with LOGIN_FLOOD_CONNECTIONS=300 LOGIN_FLOOD_LOGINS=40.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { GameClient } from '../../app/client/game-client.js'
import { isGameServerError } from '../../app/errors.js'
import { WireError } from '../../app/protocol/types.js'
import { PASSWORD, startGame, uniqueUsername, type GameFixture } from './game-support.js'

const test = suite('login flood: per-address and per-account throttling keep honest logins fast')

const CONNECTIONS = Number(process.env.LOGIN_FLOOD_CONNECTIONS ?? 40)
const HONEST_LOGINS = Number(process.env.LOGIN_FLOOD_LOGINS ?? 12)
/** An attacker's pause between two attempts on one connection: a loop, not a busy spin. */
const ATTACK_PAUSE_MS = 20

interface Phase {
  readonly p50: number
  readonly p99: number
  readonly refused: Readonly<Record<string, number>>
  readonly attempts: number
  readonly throttled: number
  /** Attacker guesses that reached scrypt while the honest logins were measured. */
  readonly hashedDuring: number
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!
}

function wireCodeOf(err: unknown): number | undefined {
  return isGameServerError(err, 'GS_ERR_REQUEST_REJECTED') ? (err.context.wireCode as number) : undefined
}

const names = new Map<number, string>(Object.entries(WireError).map(([k, v]) => [v, k]))

async function flood(game: GameFixture, honestName: string, victimName: string, throttling: boolean): Promise<Phase> {
  const port = game.handle.port
  const attackers = await Promise.all(Array.from({ length: CONNECTIONS }, () => GameClient.connect({ host: '127.0.0.1', port, localAddress: '127.0.7.1', timeoutMs: 30_000 })))
  let stop = false
  let attempts = 0
  let throttled = 0
  const loops = attackers.map(async (attacker) => {
    while (!stop) {
      try {
        await attacker.login(victimName, 'wrong-password-guess')
      } catch (err) {
        attempts++
        if (wireCodeOf(err) === WireError.LOGIN_THROTTLED) throttled++
        else if (wireCodeOf(err) === undefined) return // connection gone
      }
      await new Promise((r) => setTimeout(r, ATTACK_PAUSE_MS))
    }
  })
  // The attack is under way; with throttling, its first wave (one guess per connection, admitted
  // before the failures land) is a transient bounded by the connection count: measure after it.
  const game_ = game.handle.game
  const settleBy = performance.now() + 5000
  await new Promise((r) => setTimeout(r, 300))
  const waveOver = (): boolean => {
    const queue = game_.loginFlow.queue.stats()
    return game_.loginFlow.throttle.stats().throttledAddress > 0 && queue.waiting === 0 && queue.running === 0
  }
  while (throttling && !waveOver() && performance.now() < settleBy) await new Promise((r) => setTimeout(r, 20))
  const admittedBefore = game_.loginFlow.throttle.stats().admitted
  const times: number[] = []
  const refused: Record<string, number> = {}
  for (let i = 0; i < HONEST_LOGINS; i++) {
    const honest = await GameClient.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.1', timeoutMs: 30_000 })
    const started = performance.now()
    try {
      await honest.login(honestName, PASSWORD)
      times.push(performance.now() - started)
    } catch (err) {
      const name = names.get(wireCodeOf(err) ?? -1) ?? String(err)
      refused[name] = (refused[name] ?? 0) + 1
    }
    honest.connection.destroy()
  }
  const admittedDuring = game_.loginFlow.throttle.stats().admitted - admittedBefore - HONEST_LOGINS
  stop = true
  for (const a of attackers) a.connection.destroy()
  await Promise.allSettled(loops)
  times.sort((a, b) => a - b)
  return { p50: times.length ? quantile(times, 0.5) : Infinity, p99: times.length ? quantile(times, 0.99) : Infinity, refused, attempts, throttled, hashedDuring: admittedDuring }
}

async function phase(env: Record<string, string>, throttling: boolean): Promise<{ baseline: number; attack: Phase }> {
  // the server's real password cost: the attack's weight is scrypt
  const game = await startGame({ PASSWORD_HASH_COST: '16384', ...env })
  try {
    const honestName = uniqueUsername('honest')
    const victimName = uniqueUsername('victim')
    for (const name of [honestName, victimName]) {
      const c = await game.connect()
      await c.register(name, PASSWORD)
      c.connection.destroy()
    }
    const quiet: number[] = []
    for (let i = 0; i < 5; i++) {
      const c = await game.connect()
      const started = performance.now()
      await c.login(honestName, PASSWORD)
      quiet.push(performance.now() - started)
      c.connection.destroy()
    }
    quiet.sort((a, b) => a - b)
    return { baseline: quantile(quiet, 0.5), attack: await flood(game, honestName, victimName, throttling) }
  } finally {
    await game.close()
  }
}

test(`${CONNECTIONS} connections looping wrong passwords: the honest login stays fast with throttling, not without`, async () => {
  const before = await phase({ LOGIN_ADDRESS_BURST: '0', LOGIN_ACCOUNT_BURST: '0' }, false)
  const after = await phase({}, true)
  const show = (p: { baseline: number; attack: Phase }) =>
    `quiet p50 ${p.baseline.toFixed(0)} ms; under attack p50 ${p.attack.p50.toFixed(0)} ms p99 ${p.attack.p99.toFixed(0)} ms, honest refused ${JSON.stringify(p.attack.refused)}, attacker attempts ${p.attack.attempts} (${p.attack.throttled} throttled, ${p.attack.hashedDuring} hashed while measuring)`
  console.log(`    throttling off: ${show(before)}\n    throttling on:  ${show(after)}`)
  assert.equal(after.attack.refused, {}, 'no honest login refused (no OVERLOADED, no LOGIN_THROTTLED)')
  assert.ok(after.attack.throttled > 0, 'the attacker was throttled')
  // the attack's cost to the server: unbounded without throttling, (almost) nothing with it
  assert.ok(before.attack.hashedDuring > 20, `without throttling every guess is hashed (${before.attack.hashedDuring})`)
  assert.ok(after.attack.hashedDuring <= 2, `with throttling the attacker's guesses are refused before scrypt (${after.attack.hashedDuring} hashed)`)
  // relative to this machine's own quiet figure, generous for a shared 2-core machine
  assert.ok(after.attack.p99 < Math.max(after.baseline * 8, after.baseline + 400), `honest p99 ${after.attack.p99.toFixed(0)} ms vs quiet ${after.baseline.toFixed(0)} ms`)
})

test.run()
