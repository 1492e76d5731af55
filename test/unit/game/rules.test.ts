import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { loadConfig } from '../../../app/config/index.js'
import { ChatHistory } from '../../../app/game/chat-history.js'
import {
  checkAttack,
  checkChat,
  checkMove,
  fullBudget,
  hpAfterHit,
  inBounds,
  levelFor,
  rulesFromConfig,
  spawnPoint,
  zoneOf,
  type Combatant,
} from '../../../app/game/rules.js'

const rules = rulesFromConfig(loadConfig({ ZONE_COUNT: '3', ZONE_SIZE: '100', MAX_SPEED: '10', ATTACK_RANGE: '5', ATTACK_COOLDOWN_MS: '500', ATTACK_DAMAGE: '30', MAX_HP: '100', CHAT_MAX_CHARS: '5' }))

function mover(x = 50, y = 50, hp = 100, nowMs = 0) {
  return { x, y, hp, budget: fullBudget(rules, nowMs) }
}

/** checkMove, applying the move when accepted (as the game does). */
function step(p: ReturnType<typeof mover>, x: number, y: number, nowMs: number): string {
  const verdict = checkMove(rules, p, x, y, nowMs)
  if (verdict === 'ok') {
    p.x = x
    p.y = y
  }
  return verdict
}

test('bounds: [0, zones × size) × [0, size); zone from x; spawn at the zone centre', () => {
  assert.ok(inBounds(rules, 0, 0))
  assert.ok(inBounds(rules, 299.9, 99.9))
  assert.not.ok(inBounds(rules, 300, 50))
  assert.not.ok(inBounds(rules, -0.1, 50))
  assert.not.ok(inBounds(rules, 50, 100))
  assert.not.ok(inBounds(rules, Number.NaN, 1))
  assert.is(zoneOf(rules, 0), 0)
  assert.is(zoneOf(rules, 99.99), 0)
  assert.is(zoneOf(rules, 100), 1)
  assert.is(zoneOf(rules, 299), 2)
  assert.equal(spawnPoint(rules, 1), { x: 150, y: 50 })
})

test('speed limit: one second of burst, then MAX_SPEED units per second', () => {
  const p = mover()
  assert.is(step(p, 60, 50, 0), 'ok', '10 units: the full burst')
  assert.is(step(p, 60.5, 50, 0), 'too-fast', 'budget spent')
  assert.is(step(p, 61.5, 50, 100), 'too-fast', '1.5 units after 0.1 s (refilled 1)')
  assert.is(step(p, 61, 50, 100), 'ok', '1 unit after 0.1 s')
  assert.is(step(p, 62.01, 50, 200), 'too-fast', '1.01 units after another 0.1 s')
  assert.is(step(p, 62, 50, 200), 'ok')
})

test('speed limit: idling does not bank more than one second; many tiny moves cannot beat it', () => {
  const p = mover(50, 50, 100, 0)
  assert.is(step(p, 50, 70, 60_000), 'too-fast', '20 units after a minute idle: still only 10 allowed')
  let x = 50
  let accepted = 0
  for (let t = 0; t <= 1000; t += 1) {
    if (step(p, x + 0.5, 50, 60_000 + t) === 'ok') {
      x += 0.5
      accepted++
    }
  }
  assert.ok(x - 50 <= 10 + 10 + 0.5, `moved ${x - 50} units in 1 s (burst 10 + 10/s)`)
  assert.ok(accepted > 0)
})

test('moves: out of bounds and dead players rejected, budget unchanged', () => {
  const p = mover()
  assert.is(checkMove(rules, p, 50, 100, 0), 'out-of-bounds')
  assert.is(checkMove(rules, p, -1, 50, 0), 'out-of-bounds')
  assert.is(checkMove(rules, mover(50, 50, 0), 51, 50, 0), 'dead')
  assert.is(checkMove(rules, p, 60, 50, 0), 'ok', 'rejections did not spend budget')
})

function fighter(overrides: Partial<Combatant> = {}): Combatant {
  return { id: 1, zone: 0, x: 50, y: 50, hp: 100, lastAttackAtMs: Number.NEGATIVE_INFINITY, ...overrides }
}

test('attacks: range, zone, self, dead attacker or target, cooldown', () => {
  const a = fighter()
  assert.is(checkAttack(rules, a, fighter({ id: 2, x: 55 }), 0), 'ok', 'exactly at range')
  assert.is(checkAttack(rules, a, fighter({ id: 2, x: 55.01 }), 0), 'out-of-range')
  assert.is(checkAttack(rules, a, fighter({ id: 2, zone: 1 }), 0), 'other-zone')
  assert.is(checkAttack(rules, a, a, 0), 'self')
  assert.is(checkAttack(rules, fighter({ hp: 0 }), fighter({ id: 2 }), 0), 'dead')
  assert.is(checkAttack(rules, a, fighter({ id: 2, hp: 0 }), 0), 'target-dead')
  assert.is(checkAttack(rules, fighter({ lastAttackAtMs: 1000 }), fighter({ id: 2 }), 1499), 'cooldown')
  assert.is(checkAttack(rules, fighter({ lastAttackAtMs: 1000 }), fighter({ id: 2 }), 1500), 'ok')
})

test('damage floors at 0 (death); experience levels', () => {
  assert.is(hpAfterHit(rules, 100), 70)
  assert.is(hpAfterHit(rules, 20), 0)
  assert.is(levelFor(0), 1)
  assert.is(levelFor(99), 1)
  assert.is(levelFor(100), 2)
})

test('chat: empty/whitespace rejected, length in code points after trimming', () => {
  assert.is(checkChat(rules, ''), 'empty')
  assert.is(checkChat(rules, '  \n '), 'empty')
  assert.is(checkChat(rules, 'hello'), 'ok')
  assert.is(checkChat(rules, '  hello  '), 'ok')
  assert.is(checkChat(rules, 'hello!'), 'too-long')
  assert.is(checkChat(rules, '👋👋👋👋👋'), 'ok', '5 code points (10 UTF-16 units)')
  assert.is(checkChat(rules, '👋👋👋👋👋👋'), 'too-long')
})

test('chat history keeps the last N, oldest first', () => {
  const history = new ChatHistory(3)
  const msg = (text: string) => ({ senderId: 1, zone: 0, flags: 0, sentAtMs: 0, username: 'u', text })
  assert.equal(history.messages(), [])
  history.push(msg('a'))
  history.push(msg('b'))
  assert.equal(history.messages().map((m) => m.text), ['a', 'b'])
  for (const t of ['c', 'd', 'e']) history.push(msg(t))
  assert.equal(history.messages().map((m) => m.text), ['c', 'd', 'e'])
  assert.is(history.size, 3)
})

test.run()
