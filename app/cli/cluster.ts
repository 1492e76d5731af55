/**
 * `npm run cluster -- status [--json]` — members (alive/dead, address, role, load, last heartbeat)
 * and the leader with its fencing token, read from the cluster's Redis (`CLUSTER_REDIS_URL` or
 * the first `REDIS_URLS`; namespace `CLUSTER_NAME`). Exit 0 when a leader exists, 3 when none.
 * `npm run cluster -- snapshots [--top N] [--json]` — the leader's latest leaderboard snapshots
 * (app/cli/cluster-snapshots.ts).
 */
import { clusterRedisUrl } from '../cluster/cluster-node.js'
import { readLeader } from '../cluster/leader-election.js'
import { readMembers } from '../cluster/membership.js'
import { connectClusterRedis } from '../cluster/redis-connection.js'
import { loadConfig } from '../config/index.js'
import { printSnapshots } from './cluster-snapshots.js'

const USAGE = 'usage: npm run cluster -- status [--json] | snapshots [--top N] [--json]'

async function main(): Promise<number> {
  const args = process.argv.slice(2)
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE)
    return 0
  }
  if (args[0] === 'snapshots') return printSnapshots(loadConfig(), args.slice(1))
  if (args[0] !== 'status') {
    console.error(USAGE)
    return 2
  }
  const config = loadConfig()
  const url = clusterRedisUrl(config)
  if (url === undefined) {
    console.error('cluster: set CLUSTER_REDIS_URL (or REDIS_URLS) to the cluster\'s Redis')
    return 2
  }
  const redis = await connectClusterRedis({ url })
  try {
    const [members, leader] = await Promise.all([readMembers(redis, config.cluster.clusterName, url), readLeader(redis, config.cluster.clusterName)])
    if (args.includes('--json')) {
      console.log(JSON.stringify({ cluster: config.cluster.clusterName, leader, members }, null, 2))
      return leader ? 0 : 3
    }
    console.log(`cluster ${config.cluster.clusterName} at ${url.replace(/\/\/[^@/]*@/, '//***@')}`)
    console.log(leader ? `leader: ${leader.id} (fencing token ${leader.token}, lease ${leader.ttlMs} ms left)` : 'leader: none')
    const rows = members.map((m) => [m.id + (leader?.id === m.id ? ' *' : ''), m.alive ? 'alive' : 'dead', m.address || '-', m.alive ? m.role : '-', m.alive ? String(m.load) : '-', `${(m.lastSeenMs / 1000).toFixed(1)} s ago`])
    const header = ['member', 'health', 'address', 'role', 'load', 'last heartbeat']
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
    const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()
    console.log(line(header))
    for (const row of rows) console.log(line(row))
    if (rows.length === 0) console.log('(no members)')
    return leader ? 0 : 3
  } finally {
    await redis.quit().catch(() => redis.disconnect())
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`cluster: ${(err as Error).message}`)
    process.exit(1)
  },
)
