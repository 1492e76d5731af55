/**
 * The recovery point objective, measured: a game server process on a real PostgreSQL is SIGKILLed
 * while players keep moving; every move was acknowledged (PLAYER_MOVED). For each player the
 * window is the time from the acknowledgement of the last move found in the database to the kill.
 * It must stay within RECOVERY_POINT_MS (the one setting that bounds it, docs/DATABASE.md).
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { GameClient } from '../../app/client/game-client.js'
import { Harness } from '../harness/index.js'
import { listeningPort, PASSWORD, spawnServer, uniqueUsername } from './game-support.js'

const test = suite('crash loss window: acknowledged moves lost to a SIGKILL stay within RECOVERY_POINT_MS')

const PLAYERS = 30
const RECOVERY_POINT_MS = 1000

test(`SIGKILL under load: every player's lost window ≤ RECOVERY_POINT_MS (${RECOVERY_POINT_MS} ms)`, async () => {
  const harness = new Harness()
  try {
    const postgres = await harness.postgres()
    const server = spawnServer(harness, {
      DATABASE_URL: postgres.url, DB_MIGRATE_AT_START: 'true', RECOVERY_POINT_MS: String(RECOVERY_POINT_MS),
      PASSWORD_HASH_COST: '1024', ZONE_SIZE: '65536', ZONE_COUNT: '1', MAX_SPEED: '100000',
    })
    const port = await listeningPort(server)
    const players = await Promise.all(Array.from({ length: PLAYERS }, async () => {
      const client = await GameClient.connect({ host: '127.0.0.1', port, timeoutMs: 8000 })
      const name = uniqueUsername('crash')
      const ok = await client.register(name, PASSWORD)
      return { client, name, y: ok.y, x: 10, acks: new Map<number, number>() }
    }))
    let killed = false
    // each player walks +1 in x per acknowledged move, so a stored x names the move it came from
    const loops = players.map(async (p) => {
      while (!killed) {
        const x = p.x + 1
        try {
          await p.client.move(x, p.y)
        } catch {
          return // the server is gone
        }
        p.acks.set(x, performance.now())
        p.x = x
        await new Promise((r) => setTimeout(r, 5))
      }
    })
    await new Promise((r) => setTimeout(r, 3000 + Math.random() * RECOVERY_POINT_MS)) // kill at a random phase of the timers
    killed = true
    const killedAt = performance.now()
    server.signal('SIGKILL')
    await server.waitForExit()
    await Promise.allSettled(loops)
    for (const p of players) p.client.connection.destroy()

    const rows = (await postgres.psql(`SELECT username || ' ' || pos_x FROM players WHERE username LIKE 'crash%'`)).trim().split('\n')
    const stored = new Map(rows.map((r) => r.split(' ') as [string, string]).map(([name, x]) => [name, Number(x)]))
    const windows: number[] = []
    let lostMoves = 0
    for (const p of players) {
      const x = stored.get(p.name)!
      const ackedAt = p.acks.get(x) ?? (x === 10 ? 0 : undefined)
      assert.ok(ackedAt !== undefined, `${p.name}: stored x ${x} is a move it was told succeeded`)
      windows.push(killedAt - (ackedAt === 0 ? killedAt : ackedAt))
      lostMoves += p.x - x
    }
    windows.sort((a, b) => a - b)
    const median = windows[Math.floor(windows.length / 2)]!
    const max = windows[windows.length - 1]!
    console.log(`    ${PLAYERS} players, ${lostMoves} acknowledged moves lost; window median ${median.toFixed(0)} ms, max ${max.toFixed(0)} ms (RECOVERY_POINT_MS ${RECOVERY_POINT_MS})`)
    assert.ok(max <= RECOVERY_POINT_MS, `max window ${max.toFixed(0)} ms > ${RECOVERY_POINT_MS} ms`)
  } finally {
    await harness.close()
  }
})

test.run()
