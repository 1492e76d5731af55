/**
 * `npm run cache -- <command>`: the Redis shards of `REDIS_URLS`, for operators.
 *
 *   status [--json]               per shard: address, connection, breaker, keys, memory; exit 0 when
 *                                 every shard answers, 3 when some do not (degraded or down)
 *   top <board> [count] [--json]  a leaderboard (`kills`, `experience`), best first (default 10)
 *   invalidate <pattern>          delete the keys matching `pattern` (must start with `gs:`) on every
 *                                 shard with SCAN + UNLINK, e.g. `gs:player:*` after a schema change
 */
import { Cache, cacheOptionsFrom } from '../cache/cache.js'
import { loadConfig } from '../config/index.js'
import { isGameServerError } from '../errors.js'

const USAGE = 'usage: npm run cache -- status [--json] | top <board> [count] [--json] | invalidate <pattern>'

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

async function main(): Promise<number> {
  const args = process.argv.slice(2)
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE)
    return 0
  }
  const json = args.includes('--json')
  const [command, ...rest] = args.filter((a) => a !== '--json')
  if (command !== 'status' && command !== 'top' && command !== 'invalidate') {
    console.error(USAGE)
    return 2
  }
  const config = loadConfig()
  if (config.data.redisUrls.length === 0) {
    console.error('cache: REDIS_URLS is not set (comma-separated redis:// URLs, one per shard)')
    return 2
  }
  // An operator tool is not latency-critical: patient timeouts, and one failure marks a shard down.
  const options = cacheOptionsFrom(config)
  const cache = await Cache.open({
    ...options,
    commandTimeoutMs: Math.max(options.commandTimeoutMs, 5000),
    connectTimeoutMs: Math.max(options.connectTimeoutMs, 2000),
    breakerFailures: 1,
  })
  try {
    if (command === 'status') {
      const shards = await Promise.all(
        cache.shards.shards.map(async (shard) => {
          const keys = await shard.exec((c) => c.dbsize())
          const memory = await shard.exec((c) => c.info('memory'))
          const usedMemoryBytes = memory.ok ? Number(/used_memory:(\d+)/.exec(memory.value)?.[1]) : undefined
          const status = shard.status()
          return { index: shard.index, name: shard.name, connection: status.connection, breaker: status.breaker, keys: keys.ok ? keys.value : undefined, usedMemoryBytes }
        }),
      )
      const health = cache.status().health
      if (json) console.log(JSON.stringify({ health, shards }, null, 2))
      else {
        console.log(`cache ${health}: ${shards.filter((s) => s.breaker === 'closed').length}/${shards.length} shards answer`)
        console.log(
          table(
            ['shard', 'address', 'connection', 'breaker', 'keys', 'memory'],
            shards.map((s) => [String(s.index), s.name, s.connection, s.breaker, s.keys === undefined ? '-' : String(s.keys), s.usedMemoryBytes === undefined ? '-' : `${(s.usedMemoryBytes / 2 ** 20).toFixed(1)} MiB`]),
          ),
        )
      }
      return health === 'ok' ? 0 : 3
    }
    if (command === 'top') {
      const [board, countText] = rest
      const count = countText === undefined ? 10 : Number(countText)
      if (!board || !Number.isInteger(count) || count < 1) {
        console.error(USAGE)
        return 2
      }
      const shard = cache.shards.shardFor(`gs:lb:{${board}}`)
      const entries = await cache.leaderboards.top(board, count)
      if (!shard.available) {
        console.error(`cache: the shard of leaderboard ${board} (${shard.name}) does not answer`)
        return 3
      }
      if (json) console.log(JSON.stringify({ board, entries }, null, 2))
      else console.log(table(['rank', 'player', 'score'], entries.map((e) => [String(e.rank), String(e.playerId), String(e.score)])))
      return 0
    }
    const [pattern] = rest
    if (!pattern) {
      console.error(USAGE)
      return 2
    }
    const result = await cache.invalidatePattern(pattern)
    for (const s of result.shards) console.log(`shard ${s.shard}: ${s.deleted === undefined ? 'unavailable, skipped' : `${s.deleted} key(s) removed`}`)
    console.log(`${result.deleted} key(s) matching ${pattern} removed`)
    return result.skippedShards.length === 0 ? 0 : 3
  } catch (err) {
    if (isGameServerError(err)) {
      console.error(`${err.code}: ${err.message}`)
      return 2
    }
    throw err
  } finally {
    await cache.close()
  }
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(`cache: ${err instanceof Error ? err.message : String(err)}`)
    process.exitCode = 1
  },
)
