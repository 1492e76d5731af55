/**
 * Load-test scenarios as data: how many virtual players (a player-count ramp, or an arrival-rate
 * ramp with a session length), what each of them does (an action mix with weights), how fast
 * (actions per second per player, think times, requests in flight) and for how long.
 *
 * Ramps are lists of points `{ at, level }`: `at` is a fraction of the duration (0…1), `level` a
 * fraction of the peak (0…1); between points the level is interpolated linearly, after the last
 * point it is held. So a shipped scenario keeps its shape when `--players` or `--duration` change it.
 *
 * `validateScenario` turns untrusted JSON (a `--scenario ./file.json`) into a `Scenario` or throws
 * GS_ERR_LOADTEST_SCENARIO naming every bad field by its path (e.g. `load.ramp[2].at`).
 */
import { readFile } from 'node:fs/promises'
import { GameServerError } from '../errors.js'

export const ACTION_NAMES = ['ping', 'move', 'chat', 'attack', 'login'] as const
export type ActionName = (typeof ACTION_NAMES)[number]
/** Actions that need the game's messages (login, world); PING is answered by the net layer. */
export const GAME_ACTIONS: readonly ActionName[] = ['move', 'chat', 'attack', 'login']

export interface RampPoint {
  /** Fraction of the duration, 0…1. */
  readonly at: number
  /** Fraction of the peak, 0…1. */
  readonly level: number
}

interface PlayerCountLoad {
  readonly mode: 'players'
  /** Peak number of concurrently connected players. */
  readonly players: number
  readonly ramp: readonly RampPoint[]
}

interface ArrivalRateLoad {
  readonly mode: 'arrival'
  /** Peak arrivals (new players) per second. */
  readonly arrivalsPerSecond: number
  /** How long an arriving player stays before it leaves. */
  readonly sessionSeconds: number
  /** Cap on players connected at once. */
  readonly maxPlayers: number
  readonly ramp: readonly RampPoint[]
}

type LoadShape = PlayerCountLoad | ArrivalRateLoad

export interface Scenario {
  readonly name: string
  readonly description: string
  readonly durationSeconds: number
  readonly load: LoadShape
  /** Relative weights of the actions a player picks (need not sum to 1). */
  readonly mix: Readonly<Partial<Record<ActionName, number>>>
  /** Target actions per second per player; 0 = next action as soon as the answer is in. */
  readonly actionsPerSecond: number
  /** Extra random pause after each answer, uniform in [min, max]. */
  readonly thinkTimeMs: { readonly min: number; readonly max: number }
  /** Concurrent action loops per player (requests in flight). */
  readonly inFlight: number
  /** An unanswered request counts as an error after this long. */
  readonly requestTimeoutMs: number
  /** Bytes of PING payload (echoed in the PONG). */
  readonly pingPayloadBytes: number
}

export const MAX_DURATION_SECONDS = 24 * 3600
export const MAX_PLAYERS = 200_000

const flat: readonly RampPoint[] = [{ at: 0, level: 1 }]
const warmUp: readonly RampPoint[] = [{ at: 0, level: 0.1 }, { at: 0.1, level: 1 }]

/** What a player does in the game scenarios: mostly moving, some fighting and talking, a ping now and then. */
const gameMix = { move: 0.6, attack: 0.15, chat: 0.1, ping: 0.15 } as const

const defaults = {
  description: '',
  actionsPerSecond: 10,
  thinkTimeMs: { min: 0, max: 0 },
  inFlight: 1,
  requestTimeoutMs: 5000,
  pingPayloadBytes: 16,
} as const

export const SHIPPED_SCENARIOS: Readonly<Record<string, Scenario>> = {
  smoke: {
    ...defaults,
    name: 'smoke',
    description: 'A handful of players pinging for a few seconds: is the target alive and answering?',
    durationSeconds: 5,
    load: { mode: 'players', players: 5, ramp: flat },
    mix: { ping: 1 },
    actionsPerSecond: 20,
  },
  steady: {
    ...defaults,
    name: 'steady',
    description: 'A constant population (after a short warm-up) that logs in, moves, fights, chats and pings: the baseline for throughput and RTT.',
    durationSeconds: 30,
    load: { mode: 'players', players: 100, ramp: warmUp },
    mix: gameMix,
    actionsPerSecond: 10,
  },
  mixed: {
    ...defaults,
    name: 'mixed',
    description: 'The game mix at a constant population from the first second (the Pulumi loadtest stack\'s in-network generators run it).',
    durationSeconds: 60,
    load: { mode: 'players', players: 100, ramp: flat },
    mix: gameMix,
    actionsPerSecond: 10,
  },
  spike: {
    ...defaults,
    name: 'spike',
    description: 'A fifth of the peak, a sudden jump to the peak for a fifth of the run, back down.',
    durationSeconds: 40,
    load: {
      mode: 'players',
      players: 200,
      ramp: [
        { at: 0, level: 0.2 },
        { at: 0.4, level: 0.2 },
        { at: 0.42, level: 1 },
        { at: 0.6, level: 1 },
        { at: 0.62, level: 0.2 },
      ],
    },
    mix: gameMix,
    actionsPerSecond: 10,
  },
  'soak-short': {
    ...defaults,
    name: 'soak-short',
    description: 'Players arrive at a steady rate, play for a minute each and now and then re-login with their token, for five minutes: leaks, drift, churn.',
    durationSeconds: 300,
    load: { mode: 'arrival', arrivalsPerSecond: 2, sessionSeconds: 60, maxPlayers: 200, ramp: flat },
    mix: { ...gameMix, login: 0.01 },
    actionsPerSecond: 5,
    thinkTimeMs: { min: 0, max: 100 },
  },
}

/** The level (0…1) of a ramp at fraction `t` of the run. */
export function rampLevel(ramp: readonly RampPoint[], t: number): number {
  if (ramp.length === 0) return 1
  if (t <= ramp[0]!.at) return ramp[0]!.level
  for (let i = 1; i < ramp.length; i++) {
    const a = ramp[i - 1]!
    const b = ramp[i]!
    if (t <= b.at) return b.at === a.at ? b.level : a.level + ((b.level - a.level) * (t - a.at)) / (b.at - a.at)
  }
  return ramp[ramp.length - 1]!.level
}

/** Players wanted at `elapsedSeconds` (player-count mode). */
export function targetPlayers(scenario: Scenario, elapsedSeconds: number): number {
  if (scenario.load.mode !== 'players') return 0
  return Math.round(scenario.load.players * rampLevel(scenario.load.ramp, elapsedSeconds / scenario.durationSeconds))
}

/** Apply command-line overrides: `players` sets the peak (or the arrival cap), `durationSeconds` the length. */
export function withOverrides(scenario: Scenario, overrides: { players?: number; durationSeconds?: number }): Scenario {
  let load = scenario.load
  if (overrides.players !== undefined) {
    load = load.mode === 'players' ? { ...load, players: overrides.players } : { ...load, maxPlayers: overrides.players }
  }
  return validateScenario({ ...scenario, load, durationSeconds: overrides.durationSeconds ?? scenario.durationSeconds }, `scenario "${scenario.name}"`)
}

/** Resolve `--scenario`: a shipped name, or a path to a JSON file (anything with `/` or `.json`). */
export async function loadScenario(nameOrFile: string): Promise<Scenario> {
  const shipped = SHIPPED_SCENARIOS[nameOrFile]
  if (shipped) return shipped
  if (!nameOrFile.includes('/') && !nameOrFile.endsWith('.json')) {
    throw new GameServerError('GS_ERR_LOADTEST_SCENARIO', `unknown scenario "${nameOrFile}": use one of ${Object.keys(SHIPPED_SCENARIOS).join(', ')} or a path to a JSON file`, { scenario: nameOrFile })
  }
  let text: string
  try {
    text = await readFile(nameOrFile, 'utf8')
  } catch (err) {
    throw new GameServerError('GS_ERR_LOADTEST_SCENARIO', `cannot read scenario file ${nameOrFile}: ${(err as Error).message}`, { file: nameOrFile }, { cause: err })
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw new GameServerError('GS_ERR_LOADTEST_SCENARIO', `scenario file ${nameOrFile} is not valid JSON: ${(err as Error).message}`, { file: nameOrFile }, { cause: err })
  }
  return validateScenario(raw, `scenario file ${nameOrFile}`)
}

type Problems = string[]

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function show(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value)
}

function numberField(obj: Record<string, unknown>, key: string, path: string, problems: Problems, rule: { min: number; max: number; integer?: boolean; minExclusive?: boolean }, fallback?: number): number {
  const value = obj[key] === undefined ? fallback : obj[key]
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (rule.minExclusive ? value > rule.min : value >= rule.min) &&
    value <= rule.max &&
    (!rule.integer || Number.isInteger(value))
  if (!ok) {
    const kind = rule.integer ? 'an integer' : 'a number'
    const low = rule.minExclusive ? `> ${rule.min}` : `>= ${rule.min}`
    problems.push(`${path}${key} must be ${kind} ${low} and <= ${rule.max}, got ${show(obj[key])}`)
    return fallback ?? rule.min
  }
  return value
}

function validateRamp(raw: unknown, path: string, problems: Problems): RampPoint[] {
  if (raw === undefined) return [...flat]
  if (!Array.isArray(raw) || raw.length === 0) {
    problems.push(`${path} must be a non-empty array of { at, level } points, got ${show(raw)}`)
    return [...flat]
  }
  const points: RampPoint[] = []
  raw.forEach((point, i) => {
    const here = `${path}[${i}].`
    if (!isRecord(point)) {
      problems.push(`${path}[${i}] must be an object { at, level }, got ${show(point)}`)
      return
    }
    const at = numberField(point, 'at', here, problems, { min: 0, max: 1 })
    const level = numberField(point, 'level', here, problems, { min: 0, max: 1 })
    const previous = points[points.length - 1]
    if (previous !== undefined && at < previous.at) problems.push(`${here}at must not be below the previous point's at (${previous.at}), got ${at}`)
    points.push({ at, level })
  })
  return points
}

function validateLoad(raw: unknown, problems: Problems): LoadShape {
  if (!isRecord(raw)) {
    problems.push(`load must be an object with mode "players" or "arrival", got ${show(raw)}`)
    return { mode: 'players', players: 1, ramp: flat }
  }
  const ramp = validateRamp(raw['ramp'], 'load.ramp', problems)
  if (raw['mode'] === 'players') {
    const players = numberField(raw, 'players', 'load.', problems, { min: 1, max: MAX_PLAYERS, integer: true })
    return { mode: 'players', players, ramp }
  }
  if (raw['mode'] === 'arrival') {
    const arrivalsPerSecond = numberField(raw, 'arrivalsPerSecond', 'load.', problems, { min: 0, max: 100_000, minExclusive: true })
    const sessionSeconds = numberField(raw, 'sessionSeconds', 'load.', problems, { min: 0, max: MAX_DURATION_SECONDS, minExclusive: true })
    const maxPlayers = numberField(raw, 'maxPlayers', 'load.', problems, { min: 1, max: MAX_PLAYERS, integer: true })
    return { mode: 'arrival', arrivalsPerSecond, sessionSeconds, maxPlayers, ramp }
  }
  problems.push(`load.mode must be "players" or "arrival", got ${show(raw['mode'])}`)
  return { mode: 'players', players: 1, ramp }
}

function validateMix(raw: unknown, problems: Problems): Partial<Record<ActionName, number>> {
  if (!isRecord(raw)) {
    problems.push(`mix must be an object of action weights (${ACTION_NAMES.join(', ')}), got ${show(raw)}`)
    return { ping: 1 }
  }
  const mix: Partial<Record<ActionName, number>> = {}
  let total = 0
  for (const [key, weight] of Object.entries(raw)) {
    if (!(ACTION_NAMES as readonly string[]).includes(key)) {
      problems.push(`mix.${key} is not an action (use ${ACTION_NAMES.join(', ')})`)
      continue
    }
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
      problems.push(`mix.${key} must be a number >= 0, got ${show(weight)}`)
      continue
    }
    mix[key as ActionName] = weight
    total += weight
  }
  if (total <= 0 && problems.every((p) => !p.startsWith('mix.'))) problems.push('mix must give at least one action a weight > 0')
  return mix
}

const KNOWN_KEYS = new Set(['name', 'description', 'durationSeconds', 'load', 'mix', 'actionsPerSecond', 'thinkTimeMs', 'inFlight', 'requestTimeoutMs', 'pingPayloadBytes'])

/** Validate untrusted scenario data; throws GS_ERR_LOADTEST_SCENARIO listing every bad field. */
export function validateScenario(raw: unknown, source = 'scenario'): Scenario {
  const problems: Problems = []
  if (!isRecord(raw)) throw new GameServerError('GS_ERR_LOADTEST_SCENARIO', `${source}: must be a JSON object, got ${show(raw)}`, { source })
  for (const key of Object.keys(raw)) if (!KNOWN_KEYS.has(key)) problems.push(`${key} is not a scenario field (known: ${[...KNOWN_KEYS].join(', ')})`)
  const name = raw['name']
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(name)) problems.push(`name must be 1–64 characters of letters, digits, _ . -, got ${show(name)}`)
  const description = raw['description'] ?? ''
  if (typeof description !== 'string') problems.push(`description must be a string, got ${show(description)}`)
  const durationSeconds = numberField(raw, 'durationSeconds', '', problems, { min: 0, max: MAX_DURATION_SECONDS, minExclusive: true })
  const load = validateLoad(raw['load'], problems)
  const mix = validateMix(raw['mix'], problems)
  const actionsPerSecond = numberField(raw, 'actionsPerSecond', '', problems, { min: 0, max: 100_000 }, defaults.actionsPerSecond)
  const inFlight = numberField(raw, 'inFlight', '', problems, { min: 1, max: 1024, integer: true }, defaults.inFlight)
  const requestTimeoutMs = numberField(raw, 'requestTimeoutMs', '', problems, { min: 1, max: 600_000, integer: true }, defaults.requestTimeoutMs)
  const pingPayloadBytes = numberField(raw, 'pingPayloadBytes', '', problems, { min: 0, max: 60_000, integer: true }, defaults.pingPayloadBytes)
  let thinkTimeMs: { min: number; max: number } = { ...defaults.thinkTimeMs }
  const think = raw['thinkTimeMs']
  if (think !== undefined) {
    if (!isRecord(think)) problems.push(`thinkTimeMs must be an object { min, max } in ms, got ${show(think)}`)
    else {
      const min = numberField(think, 'min', 'thinkTimeMs.', problems, { min: 0, max: 3_600_000 })
      const max = numberField(think, 'max', 'thinkTimeMs.', problems, { min: 0, max: 3_600_000 })
      if (max < min) problems.push(`thinkTimeMs.max must be >= thinkTimeMs.min (${min}), got ${max}`)
      thinkTimeMs = { min, max }
    }
  }
  if ((mix.login ?? 0) > 0 && inFlight > 1) problems.push(`inFlight must be 1 when mix.login > 0 (a re-login replaces the connection), got ${inFlight}`)
  if (problems.length > 0) {
    throw new GameServerError('GS_ERR_LOADTEST_SCENARIO', `${source} is invalid:\n  - ${problems.join('\n  - ')}`, { source, problems })
  }
  return { name: name as string, description: description as string, durationSeconds, load, mix, actionsPerSecond, thinkTimeMs, inFlight, requestTimeoutMs, pingPayloadBytes }
}

/** Pick an action by weight; `random` in [0, 1). */
export function pickAction(mix: Readonly<Partial<Record<ActionName, number>>>, random: number): ActionName {
  let total = 0
  for (const action of ACTION_NAMES) total += mix[action] ?? 0
  let x = random * total
  for (const action of ACTION_NAMES) {
    const weight = mix[action] ?? 0
    if (weight <= 0) continue
    if (x < weight) return action
    x -= weight
  }
  for (let i = ACTION_NAMES.length - 1; i >= 0; i--) if ((mix[ACTION_NAMES[i]!] ?? 0) > 0) return ACTION_NAMES[i]!
  return 'ping'
}
