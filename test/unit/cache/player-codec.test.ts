import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { decodePlayer, encodePlayer } from '../../../app/cache/player-codec.js'
import { SingleFlight } from '../../../app/cache/single-flight.js'
import type { PlayerRecord } from '../../../app/game/stores.js'

const test = suite('cache: player codec and single-flight')

const record: PlayerRecord = {
  id: 42,
  username: 'ada',
  email: null,
  passwordHash: 'scrypt$abc',
  level: 3,
  experience: 1250,
  gold: 17,
  position: { zone: 2, x: 10.5, y: -3.25 },
  hp: 88,
  createdAt: new Date('2026-01-02T03:04:05.678Z'),
  lastLogin: new Date('2026-11-23T10:00:00.000Z'),
  version: 7,
}

test('round-trips a record, dates included', () => {
  assert.equal(decodePlayer(encodePlayer(record)), record)
  const fresh = { ...record, email: 'ada@example.org', lastLogin: null }
  assert.equal(decodePlayer(encodePlayer(fresh)), fresh)
})

test('malformed or partial text decodes to undefined (a miss, not a crash)', () => {
  assert.is(decodePlayer('not json'), undefined)
  assert.is(decodePlayer('null'), undefined)
  assert.is(decodePlayer('{}'), undefined)
  const broken = JSON.parse(encodePlayer(record)) as Record<string, unknown>
  delete (broken.position as Record<string, unknown>).y
  assert.is(decodePlayer(JSON.stringify(broken)), undefined)
  assert.is(decodePlayer(encodePlayer(record).replace('"level":3', '"level":"3"')), undefined)
})

test('single-flight: concurrent calls for one key share one run; a stale mark reaches the work', async () => {
  const flight = new SingleFlight<number, number>()
  let runs = 0
  let release!: (v: number) => void
  let sawStale: boolean | undefined
  const work = (isStale: () => boolean) =>
    new Promise<number>((resolve) => {
      runs++
      release = (v) => {
        sawStale = isStale()
        resolve(v)
      }
    })
  const calls = Array.from({ length: 10 }, () => flight.run(1, work))
  const other = flight.run(2, async () => 99)
  assert.is(runs, 1)
  flight.markStale(1)
  release(5)
  assert.equal(await Promise.all(calls), new Array(10).fill(5))
  assert.is(await other, 99)
  assert.is(sawStale, true)
  assert.is(flight.size, 0, 'settled runs are forgotten')
  await flight.run(1, async () => 6)
  assert.is(runs, 1, 'a new call after settling runs its own work')
})

test('single-flight: a rejection reaches every caller and is forgotten', async () => {
  const flight = new SingleFlight<string, number>()
  const fail = () => Promise.reject(new Error('db down'))
  const results = await Promise.allSettled([flight.run('a', fail), flight.run('a', fail)])
  assert.equal(results.map((r) => r.status), ['rejected', 'rejected'])
  assert.is(flight.size, 0)
})

test.run()
