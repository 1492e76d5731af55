import { mkdtemp, writeFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { isGameServerError } from '../../../app/errors.js'
import { loadScenario, pickAction, rampLevel, SHIPPED_SCENARIOS, targetPlayers, validateScenario, withOverrides } from '../../../app/loadtest/scenario.js'

function problemsOf(raw: unknown): string[] {
  try {
    validateScenario(raw, 'test')
  } catch (err) {
    assert.ok(isGameServerError(err, 'GS_ERR_LOADTEST_SCENARIO'))
    return (err.context['problems'] as string[] | undefined) ?? [err.message]
  }
  throw new Error('expected the scenario to be rejected')
}

const good = { name: 'mine', durationSeconds: 10, load: { mode: 'players', players: 4 }, mix: { ping: 1 } }

test('every shipped scenario validates and keeps its own name', () => {
  for (const [name, scenario] of Object.entries(SHIPPED_SCENARIOS)) {
    assert.is(scenario.name, name)
    assert.equal(validateScenario(JSON.parse(JSON.stringify(scenario))), scenario)
  }
  assert.equal(Object.keys(SHIPPED_SCENARIOS).sort(), ['mixed', 'smoke', 'soak-short', 'spike', 'steady'])
})

test('defaults fill optional fields', () => {
  const s = validateScenario(good)
  assert.is(s.inFlight, 1)
  assert.is(s.actionsPerSecond, 10)
  assert.equal(s.thinkTimeMs, { min: 0, max: 0 })
  assert.equal(s.load, { mode: 'players', players: 4, ramp: [{ at: 0, level: 1 }] })
})

test('errors name each bad field by its path', () => {
  const problems = problemsOf({
    name: 'bad name!',
    durationSeconds: 0,
    load: { mode: 'players', players: 2.5, ramp: [{ at: 0, level: 1 }, { at: 'x', level: 0.5 }, { at: 0.5, level: 2 }] },
    mix: { ping: -1, fly: 1 },
    thinkTimeMs: { min: 10, max: 5 },
    inFlight: 0,
    extra: true,
  })
  const text = problems.join('\n')
  for (const field of ['name', 'durationSeconds', 'load.players', 'load.ramp[1].at', 'load.ramp[2].level', 'mix.ping', 'mix.fly', 'thinkTimeMs.max', 'inFlight', 'extra']) {
    assert.ok(problems.some((p) => p.startsWith(field + ' ') || p.startsWith(field + ' ')), `no problem names ${field}:\n${text}`)
  }
})

test('arrival mode needs its own fields; an unknown mode is named', () => {
  const problems = problemsOf({ ...good, load: { mode: 'arrival', arrivalsPerSecond: 0 } })
  assert.ok(problems.some((p) => p.startsWith('load.arrivalsPerSecond')))
  assert.ok(problems.some((p) => p.startsWith('load.sessionSeconds')))
  assert.ok(problems.some((p) => p.startsWith('load.maxPlayers')))
  assert.ok(problemsOf({ ...good, load: { mode: 'flood' } }).some((p) => p.startsWith('load.mode')))
  assert.ok(problemsOf({ ...good, mix: { ping: 0 } }).some((p) => p.startsWith('mix must give')))
  assert.ok(problemsOf({ ...good, load: { mode: 'players', players: 1, ramp: [{ at: 0.5, level: 1 }, { at: 0.2, level: 1 }] } }).some((p) => p.startsWith('load.ramp[1].at')))
})

test('ramps interpolate linearly and hold after the last point', () => {
  const ramp = [{ at: 0, level: 0 }, { at: 0.5, level: 1 }]
  assert.is(rampLevel(ramp, 0), 0)
  assert.is(rampLevel(ramp, 0.25), 0.5)
  assert.is(rampLevel(ramp, 0.9), 1)
  const spike = SHIPPED_SCENARIOS['spike']!
  assert.is(targetPlayers(spike, 0), 40)
  assert.is(targetPlayers(spike, 20), 200)
  assert.is(targetPlayers(spike, 39), 40)
})

test('overrides change peak and duration and are validated', () => {
  const s = withOverrides(SHIPPED_SCENARIOS['steady']!, { players: 7, durationSeconds: 3 })
  assert.is(s.load.mode === 'players' && s.load.players, 7)
  assert.is(s.durationSeconds, 3)
  const soak = withOverrides(SHIPPED_SCENARIOS['soak-short']!, { players: 9 })
  assert.is(soak.load.mode === 'arrival' && soak.load.maxPlayers, 9)
  assert.throws(() => withOverrides(SHIPPED_SCENARIOS['smoke']!, { durationSeconds: -1 }), (err: unknown) => isGameServerError(err, 'GS_ERR_LOADTEST_SCENARIO'))
})

test('pickAction follows the weights', () => {
  const mix = { ping: 1, move: 3 }
  assert.is(pickAction(mix, 0), 'ping')
  assert.is(pickAction(mix, 0.24), 'ping')
  assert.is(pickAction(mix, 0.26), 'move')
  assert.is(pickAction(mix, 0.9999), 'move')
})

test('loadScenario: shipped name, JSON file, unknown name, bad file', async () => {
  assert.is((await loadScenario('smoke')).name, 'smoke')
  const dir = await mkdtemp(join(tmpdir(), 'gs-scenario-'))
  try {
    await writeFile(join(dir, 'ok.json'), JSON.stringify(good))
    await writeFile(join(dir, 'broken.json'), '{ nope')
    await writeFile(join(dir, 'invalid.json'), JSON.stringify({ ...good, durationSeconds: 'long' }))
    assert.is((await loadScenario(join(dir, 'ok.json'))).name, 'mine')
    for (const bad of ['nope', join(dir, 'broken.json'), join(dir, 'missing.json'), join(dir, 'invalid.json')]) {
      try {
        await loadScenario(bad)
        assert.unreachable(`${bad} should be rejected`)
      } catch (err) {
        assert.ok(isGameServerError(err, 'GS_ERR_LOADTEST_SCENARIO'), String(err))
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test.run()
