/**
 * The game on the Redis shards, over TCP: two game servers share 3 real redis-server shards
 * (REDIS_URLS). Chat history, leaderboards, the online count and login sessions go through the
 * cache; a shard killed mid-test does not stop the game, and it is used again after a restart.
 */
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Cache } from '../../app/cache/cache.js'
import { keys } from '../../app/cache/keys.js'
import { ShardRing } from '../../app/cache/ring.js'
import { shardName } from '../../app/cache/shards.js'
import { GameClient } from '../../app/client/game-client.js'
import { isGameServerError } from '../../app/errors.js'
import type { RedisServer } from '../../app/local/redis-server.js'
import { ChatFlags, decodeChatMessage } from '../../app/protocol/messages.js'
import { FrameType, WireError } from '../../app/protocol/types.js'
import { Harness } from '../harness/index.js'
import { openCache, rejection, startShards } from './cache-support.js'
import { PASSWORD, startGame, TEST_ENV, uniqueUsername, type GameFixture } from './game-support.js'
import { loadConfig } from '../../app/config/index.js'
import { freePort } from '../../app/local/ports.js'
import { createLogger } from '../../app/logger.js'
import { startServer } from '../../app/processes/game-server.js'
import { CountingMetrics } from '../harness/net-server.js'
import { eventually } from '../harness/eventually.js'

const test = suite('cache: the game on 3 redis shards (two servers)')
const harness = new Harness()
let shards: RedisServer[]
let serverA: GameFixture
let serverB: GameFixture
let observer: Cache
/** cacheError calls of server A's metrics, per shard. */
const cacheErrorsA = new Map<string, number>()
class CacheCountingMetrics extends CountingMetrics {
  override cacheError(shard: string): void {
    cacheErrorsA.set(shard, (cacheErrorsA.get(shard) ?? 0) + 1)
  }
}

const cacheEnv = () => ({
  REDIS_URLS: shards.map((s) => s.url).join(','),
  REDIS_COMMAND_TIMEOUT_MS: '200',
  REDIS_MAX_RECONNECT_DELAY_MS: '100',
  CACHE_BREAKER_FAILURES: '2',
  CACHE_BREAKER_OPEN_MS: '200',
  ATTACK_RANGE: '1000',
  ATTACK_DAMAGE: '100',
  ATTACK_COOLDOWN_MS: '0',
  RESPAWN_MS: '0',
})

test.before(async () => {
  shards = await startShards(harness, 3)
  serverA = await startGame({ ...cacheEnv(), NODE_ID: 'game-a' }, new CacheCountingMetrics())
  serverB = await startGame({ ...cacheEnv(), NODE_ID: 'game-b' })
  observer = await openCache(shards, { nodeId: 'observer' })
})

test.after(async () => {
  await serverA?.close()
  await serverB?.close()
  await observer?.close()
  await harness.close()
})

test('chat posted on one server is history for a newcomer on the other', async () => {
  const alice = await serverA.player('alice')
  const text = `hello from A ${uniqueUsername()}`
  await alice.chat(text)
  const bob = await serverB.player('bob') // enters zone 0 on server B
  const history = await bob.next(FrameType.CHAT_MESSAGE, (f) => decodeChatMessage(f.payload).text === text)
  const message = decodeChatMessage(history.payload)
  assert.is(message.flags & ChatFlags.HISTORY, ChatFlags.HISTORY, 'sent as history')
  assert.is(message.senderId, alice.playerId)
  const stored = await observer.chat.recent('zone-0', 50)
  assert.ok(stored.some((e) => e.text === text), 'the zone history is in redis')
})

test('kills and experience go to the leaderboards; the online count spans both servers', async () => {
  const hunter = await serverA.player('hunter')
  const prey = await serverA.player('prey')
  const result = await hunter.attack(prey.playerId)
  assert.ok(result.killed)
  await eventually(async () => (await observer.leaderboards.rank('kills', hunter.playerId))?.score === 1, 3000, 'the kill on the leaderboard')
  const experience = await observer.leaderboards.rank('experience', hunter.playerId)
  assert.ok(experience && experience.score > 0, 'experience recorded')
  const onlineA = serverA.handle.game.stats().online
  const onlineB = serverB.handle.game.stats().online
  await eventually(async () => (await observer.online.total()) === onlineA + onlineB, 3000, `online total ${onlineA + onlineB}`)
  // The game's own view (SharedGameState), from either server.
  const sharedB = serverB.handle.stores.shared!
  assert.ok((await sharedB.leaderboard('kills', 100)).some((r) => r.playerId === hunter.playerId && r.score === 1), 'server B sees server A\'s kill')
  const around = await sharedB.leaderboardAround('experience', hunter.playerId, 1)
  assert.ok(around.some((r) => r.playerId === hunter.playerId))
  assert.is(await serverA.handle.stores.shared!.onlineTotal(), onlineA + onlineB)
})

test('login sessions live in redis: a token from one login logs in again through the player cache', async () => {
  const username = uniqueUsername('tok')
  const first = await serverA.connect()
  const ok = await first.register(username, PASSWORD)
  await first.close()
  const again = await serverA.connect()
  const back = await again.loginWithToken(ok.token)
  assert.is(back.playerId, ok.playerId)
  const key = keys.session(ok.token)
  assert.ok(await observer.shards.shardFor(key).exec((c) => c.exists(key)).then((o) => o.ok && o.value === 1), 'the token is a redis key')
})

test('a shard killed mid-game: logins, chat and token checks keep answering; restarted, it is used again', async () => {
  const victim = 1
  // A token that lives on the victim shard.
  let token: string | undefined
  let username = ''
  while (token === undefined) {
    username = uniqueUsername('v')
    const c = await serverA.connect()
    const ok = await c.register(username, PASSWORD)
    await c.close()
    if (observer.shards.ring.shardFor(keys.session(ok.token)) === victim) token = ok.token
  }
  await shards[victim]!.kill()

  // The token's shard is down: the client is told to log in with its password again…
  const client = await serverA.connect()
  const err = await rejection(client.loginWithToken(token))
  assert.ok(isGameServerError(err, 'GS_ERR_REQUEST_REJECTED'))
  assert.is(err.context.wireCode, WireError.SESSION_STORE_UNAVAILABLE)
  // …and that works (its new token is drawn on a live shard), as does everything else.
  const relogged = await client.login(username, PASSWORD)
  assert.is.not(observer.shards.ring.shardFor(keys.session(relogged.token)), victim)
  const chatted = await client.chat('still here')
  assert.is(chatted.text, 'still here')
  const newcomer = await serverB.player('late')
  assert.ok(newcomer.playerId > 0)
  for (let i = 0; i < 10; i++) await (await serverA.player('storm')).close()

  assert.ok((cacheErrorsA.get(String(victim)) ?? 0) > 0, 'the game server counted errors on the dead shard')
  assert.is(cacheErrorsA.get(String(0)) ?? 0, 0, 'and none on the live ones')

  // Restart on the same port: new tokens land on it again and validate.
  shards[victim] = await harness.restartRedis(shards[victim]!)
  let onVictim: string | undefined
  await eventually(
    async () => {
      const c = await GameClient.connect({ host: '127.0.0.1', port: serverA.handle.port, timeoutMs: 3000 })
      try {
        const ok = await c.register(uniqueUsername('after'), PASSWORD)
        if (observer.shards.ring.shardFor(keys.session(ok.token)) === victim) onVictim = ok.token
      } finally {
        await c.close()
      }
      return onVictim !== undefined
    },
    8000,
    'a new token on the restarted shard',
  )
  const later = await serverA.connect()
  assert.ok((await later.loginWithToken(onVictim!)).playerId > 0, 'token on the restarted shard validates')
})

test('a shard unreachable at start-up: the server starts degraded, says so, and plays', async () => {
  const deadPort = await freePort()
  const lines: string[] = []
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } })
  const urls = [shards[0]!.url, `redis://127.0.0.1:${deadPort}`, shards[2]!.url].join(',')
  const handle = await startServer(loadConfig({ ...TEST_ENV, ...cacheEnv(), REDIS_URLS: urls, NODE_ID: 'game-c' }), { logger, metrics: new CountingMetrics() })
  try {
    const logged = lines.map((l) => JSON.parse(l) as { level: string; component?: string; health?: string })
    assert.ok(logged.some((l) => l.component === 'cache' && l.health === 'degraded' && l.level === 'warn'), 'a warning says the cache is degraded')
    const client = await GameClient.connect({ host: '127.0.0.1', port: handle.port, timeoutMs: 3000 })
    try {
      const ok = await client.register(uniqueUsername('deg'), PASSWORD)
      const ringC = new ShardRing(urls.split(',').map(shardName))
      assert.is.not(ringC.shardFor(keys.session(ok.token)), 1, 'its token avoided the unreachable shard')
      assert.is((await client.chat('degraded but alive')).text, 'degraded but alive')
    } finally {
      await client.close()
    }
  } finally {
    await handle.close(2000)
  }
})

test.run()
