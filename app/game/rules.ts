/**
 * The game's rules as plain functions over plain numbers, so each rule is unit-tested alone.
 *
 * World: ZONE_COUNT square zones of ZONE_SIZE units laid side by side along x, so the world spans
 * [0, ZONE_COUNT × ZONE_SIZE) × [0, ZONE_SIZE) and a position's zone is floor(x / ZONE_SIZE).
 * Walking across a border changes zone. Broadcasts (moves, chat, attacks) reach one zone.
 *
 * Movement: a distance budget per player that refills at MAX_SPEED units/s up to one second's worth
 * (MOVE_BURST_SECONDS); a move costs its straight-line distance and is rejected when it exceeds the
 * budget — so the average speed can never exceed MAX_SPEED, whatever the move rate or jitter.
 */
import type { Config } from '../config/index.js'

const MOVE_BURST_SECONDS = 1
/** Slack for f32 rounding of positions on the wire. */
const MOVE_EPSILON = 1e-3

export interface GameRules {
  readonly zoneCount: number
  readonly zoneSize: number
  readonly maxSpeed: number
  readonly chatMaxChars: number
  readonly chatHistory: number
  readonly attackRange: number
  readonly attackCooldownMs: number
  readonly attackDamage: number
  readonly respawnMs: number
  readonly maxHp: number
}

export function rulesFromConfig(config: Config): GameRules {
  const g = config.game
  return Object.freeze({
    zoneCount: g.zoneCount,
    zoneSize: g.zoneSize,
    maxSpeed: g.maxSpeed,
    chatMaxChars: g.chatMaxChars,
    chatHistory: g.chatHistory,
    attackRange: g.attackRange,
    attackCooldownMs: g.attackCooldownMs,
    attackDamage: g.attackDamage,
    respawnMs: g.respawnMs,
    maxHp: g.maxHp,
  })
}

function worldWidth(rules: GameRules): number {
  return rules.zoneCount * rules.zoneSize
}

export function inBounds(rules: GameRules, x: number, y: number): boolean {
  return Number.isFinite(x) && Number.isFinite(y) && x >= 0 && y >= 0 && x < worldWidth(rules) && y < rules.zoneSize
}

/** The zone of an in-bounds position. */
export function zoneOf(rules: GameRules, x: number): number {
  return Math.min(rules.zoneCount - 1, Math.floor(x / rules.zoneSize))
}

/** Where players of a zone (re)spawn: its centre, rounded to f32 like every wire position. */
export function spawnPoint(rules: GameRules, zone: number): { x: number; y: number } {
  return { x: Math.fround((zone + 0.5) * rules.zoneSize), y: Math.fround(rules.zoneSize / 2) }
}

function distance(ax: number, ay: number, bx: number, by: number): number {
  return Math.hypot(ax - bx, ay - by)
}

/** A player's movement budget (units), refilled over time. */
export interface MoveBudget {
  units: number
  updatedAtMs: number
}

export function fullBudget(rules: GameRules, nowMs: number): MoveBudget {
  return { units: rules.maxSpeed * MOVE_BURST_SECONDS, updatedAtMs: nowMs }
}

function refill(rules: GameRules, budget: MoveBudget, nowMs: number): void {
  const elapsedS = Math.max(0, nowMs - budget.updatedAtMs) / 1000
  budget.units = Math.min(rules.maxSpeed * MOVE_BURST_SECONDS, budget.units + elapsedS * rules.maxSpeed)
  budget.updatedAtMs = Math.max(budget.updatedAtMs, nowMs)
}

export type MoveVerdict = 'ok' | 'dead' | 'out-of-bounds' | 'too-fast'

export interface Mover {
  readonly x: number
  readonly y: number
  readonly hp: number
  readonly budget: MoveBudget
}

/** Check a move to (x, y) at `nowMs`; on 'ok' the budget is charged (the caller applies the move). */
export function checkMove(rules: GameRules, mover: Mover, x: number, y: number, nowMs: number): MoveVerdict {
  if (mover.hp <= 0) return 'dead'
  if (!inBounds(rules, x, y)) return 'out-of-bounds'
  refill(rules, mover.budget, nowMs)
  const cost = distance(mover.x, mover.y, x, y)
  if (cost > mover.budget.units + MOVE_EPSILON) return 'too-fast'
  mover.budget.units = Math.max(0, mover.budget.units - cost)
  return 'ok'
}

export type ChatVerdict = 'ok' | 'empty' | 'too-long'

/** Length in characters (code points), after trimming surrounding whitespace. */
export function checkChat(rules: GameRules, text: string): ChatVerdict {
  const trimmed = text.trim()
  if (trimmed.length === 0) return 'empty'
  let chars = 0
  for (const _ of trimmed) if (++chars > rules.chatMaxChars) return 'too-long'
  return 'ok'
}

export interface Combatant {
  readonly id: number
  readonly zone: number
  readonly x: number
  readonly y: number
  readonly hp: number
  readonly lastAttackAtMs: number
}

export type AttackVerdict = 'ok' | 'dead' | 'self' | 'target-dead' | 'other-zone' | 'out-of-range' | 'cooldown'

export function checkAttack(rules: GameRules, attacker: Combatant, target: Combatant, nowMs: number): AttackVerdict {
  if (attacker.hp <= 0) return 'dead'
  if (attacker.id === target.id) return 'self'
  if (target.hp <= 0) return 'target-dead'
  if (attacker.zone !== target.zone) return 'other-zone'
  if (distance(attacker.x, attacker.y, target.x, target.y) > rules.attackRange) return 'out-of-range'
  if (nowMs - attacker.lastAttackAtMs < rules.attackCooldownMs) return 'cooldown'
  return 'ok'
}

/** The target's hit points after one hit (never below 0). */
export function hpAfterHit(rules: GameRules, hp: number): number {
  return Math.max(0, hp - rules.attackDamage)
}

/** Experience for a kill, and the level it implies (1 + one level per 100 experience). */
export const KILL_EXPERIENCE = 10
export function levelFor(experience: number): number {
  return 1 + Math.floor(experience / 100)
}
