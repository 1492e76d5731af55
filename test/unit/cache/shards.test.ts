import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { cacheOptionsFrom } from '../../../app/cache/cache.js'
import { shardName, ShardSet } from '../../../app/cache/shards.js'
import { loadConfig } from '../../../app/config/index.js'
import { isGameServerError } from '../../../app/errors.js'

const test = suite('cache: shard set configuration')

test('shard names are host:port/db without the password', () => {
  assert.is(shardName('redis://:secret@cache-1:6380/2'), 'cache-1:6380/2')
  assert.is(shardName('redis://cache-0'), 'cache-0:6379/0')
})

test('the same shard twice in REDIS_URLS is a GS_ERR_CONFIG naming the variable', async () => {
  const err = await ShardSet.open(cacheOptionsFrom(loadConfig({ REDIS_URLS: 'redis://127.0.0.1:6390,redis://:pw@127.0.0.1:6390/0' }))).then(
    () => undefined,
    (e: unknown) => e,
  )
  assert.ok(isGameServerError(err, 'GS_ERR_CONFIG'), String(err))
  assert.is(err.context.variable, 'REDIS_URLS')
})

test.run()
