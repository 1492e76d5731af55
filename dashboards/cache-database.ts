/** Cache and database: query latency, cache hit ratio per shard, pools, and the data stores' exporters. */
import { thresholdLines } from './alert-model.js'
import { panel, q, SELECT, target, type DashboardSpec } from './common.js'
import { METRICS as M } from './telemetry.js'

const S = SELECT.servers

export const cacheDatabase: DashboardSpec = {
  uid: 'gs-cache-database',
  title: 'Game appliance — cache and database',
  description: 'PostgreSQL queries and the Redis shards as the game servers see them, the pools in between, and the data stores themselves (exporters).',
  tags: ['game-appliance', 'data'],
  rows: [
    {
      title: 'Database',
      panels: [
        panel.timeseries('Query duration p95 by operation', 'Database query duration, 95th percentile by operation.', 's', [target(q.quantile(0.95, M.dbQuery, S, ['operation']), '{{operation}}')]),
        panel.timeseries('Queries / s by operation', 'Database queries per second by operation.', 'ops', [target(q.countRate(M.dbQuery, S, ['operation']), '{{operation}}')]),
        panel.timeseries('Query errors / s', 'Failed database queries by operation.', 'ops', [target(q.rate(M.dbErrors, S, ['operation']), '{{operation}}')], { sparse: true }),
        panel.timeseries('PostgreSQL backends', 'Connections open on the database (postgres exporter).', 'short', [
          target(q.external('pg_stat_database_numbackends', `${SELECT.postgres},datname="game"`), 'backends'),
          target(q.external('pg_up', SELECT.postgres), 'up'),
        ]),
      ],
    },
    {
      title: 'Cache',
      panels: [
        panel.timeseries('Cache hit ratio by shard', 'Hits / (hits + misses) per Redis shard.', 'percentunit', [
          target(`${q.rate(M.cacheHits, S, ['shard'])} / (${q.rate(M.cacheHits, S, ['shard'])} + ${q.rate(M.cacheMisses, S, ['shard'])})`, '{{shard}}'),
        ]),
        panel.timeseries('Cache reads / s by shard', 'Hits and misses per second per shard.', 'ops', [
          target(q.rate(M.cacheHits, S, ['shard']), 'hits {{shard}}'),
          target(q.rate(M.cacheMisses, S, ['shard']), 'misses {{shard}}'),
        ]),
        panel.timeseries('Cache errors / s by shard', 'Failed cache operations per shard (the game falls back to the database).', 'ops', [target(q.rate(M.cacheErrors, S, ['shard']), '{{shard}}')], {
          sparse: true,
          thresholds: thresholdLines('cache-errors'),
        }),
        panel.timeseries('Redis shards', 'Per shard: up, connected clients, commands per second (redis exporter).', 'short', [
          target(q.external('redis_up', SELECT.redis, ['service']), 'up {{service}}'),
          target(q.external('redis_connected_clients', SELECT.redis, ['service']), 'clients {{service}}'),
          target(q.external('redis_commands_processed_total', SELECT.redis, ['service'], 'rate'), 'commands/s {{service}}'),
        ]),
        panel.timeseries('Redis memory by shard', 'Memory used by each shard (redis exporter).', 'bytes', [target(q.external('redis_memory_used_bytes', SELECT.redis, ['service']), '{{service}}')]),
      ],
    },
    {
      title: 'Pools',
      panels: [
        panel.timeseries('Pool size and in use', 'Resources owned by and borrowed from each pool.', 'short', [
          target(q.sum(M.poolSize, S, ['pool']), 'size {{pool}}'),
          target(q.sum(M.poolInUse, S, ['pool']), 'in use {{pool}}'),
        ]),
        panel.timeseries('Pool waiters', 'Callers waiting to acquire from each pool.', 'short', [target(q.max(M.poolWaiting, S, ['pool']), '{{pool}}')], { thresholds: thresholdLines('pool-waiters') }),
      ],
    },
  ],
}
