/**
 * Write-behind persistence of player state. The game marks changed players dirty (a map keyed
 * by player id: repeated changes of one player coalesce to the latest); every interval, at logout
 * (`release`) and at shutdown (`close`) the dirty players are written in bulk — one
 * `UPDATE … FROM unnest(…)` statement per `rowsPerStatement` players.
 *
 * Guarantees:
 * - `markDirty` returning normally is the acknowledgement. An acknowledged state stays in memory
 *   until a statement containing it (or a newer state of that player) has committed: a failed
 *   flush puts its rows back (unless newer state arrived meanwhile) and retries with capped,
 *   jittered exponential backoff until it succeeds. `flush()` resolves once everything marked
 *   before the call is durable.
 * - Bounded: at most `maxDirtyPlayers` distinct players wait. Marking a player who is not already
 *   waiting beyond that throws `GS_ERR_DB_WRITE_BEHIND_FULL` (not acknowledged; the caller decides:
 *   refuse the action, or disconnect). Players already waiting always coalesce.
 * - `close()` flushes, retrying until `closeDeadlineMs`; if the database is still away then, it
 *   rejects with `GS_ERR_DB_WRITE_BEHIND_CLOSED` counting the unsaved players (and logs it).
 */
import type { Config } from '../config/index.js'
import { persistIntervals } from '../config/database-section.js'
import { GameServerError } from '../errors.js'
import type { PlayerState, PlayerStateSink } from '../game/stores.js'
import type { Logger } from '../logger.js'
import { silentLogger } from '../logger.js'
import type { Executor } from './pool.js'

/** Settings from the config table (`writeBehindOptions`); tests spread them and override a few. */
export interface WriteBehindOptions {
  /** Half of RECOVERY_POINT_MS (`persistIntervals`). */
  readonly flushIntervalMs: number
  readonly rowsPerStatement: number
  readonly maxDirtyPlayers: number
  readonly retryMaxMs: number
  readonly closeDeadlineMs: number
  /** First retry delay after a failed flush (doubles up to `retryMaxMs`) [RETRY_BASE_MS]. */
  readonly retryBaseMs?: number
  readonly logger?: Logger
}

/** First delay of the flush retry backoff; not a setting (DB_FLUSH_RETRY_MAX_MS caps the growth). */
const RETRY_BASE_MS = 50

/** The write-behind's settings from the `data` section of the config table. */
export function writeBehindOptions(data: Config['data']): WriteBehindOptions {
  return {
    flushIntervalMs: persistIntervals(data.recoveryPointMs).flushMs,
    rowsPerStatement: data.dbFlushRowsPerStatement,
    maxDirtyPlayers: data.dbMaxDirtyPlayers,
    retryMaxMs: data.dbFlushRetryMaxMs,
    closeDeadlineMs: data.dbCloseDeadlineMs,
  }
}

export interface WriteBehindStats {
  readonly dirtyPlayers: number
  readonly inFlightPlayers: number
  readonly flushedPlayers: number
  readonly failedAttempts: number
  readonly consecutiveFailures: number
}

type SinkStatus = 'open' | 'closing' | 'closed'

const INT32_MAX = 2 ** 31 - 1

function checkState(state: PlayerState): void {
  const ints: Array<[string, number, number, number]> = [
    ['id', state.id, 1, INT32_MAX],
    ['level', state.level, 1, INT32_MAX],
    ['experience', state.experience, 0, Number.MAX_SAFE_INTEGER],
    ['hp', state.hp, -INT32_MAX - 1, INT32_MAX],
    ['zone', state.position?.zone, 0, INT32_MAX],
  ]
  for (const [name, value, min, max] of ints) {
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw new GameServerError('GS_ERR_DB_INVALID_ARGUMENT', `player state ${name} must be an integer in [${min}, ${max}]`, { playerId: state.id, [name]: value })
    }
  }
  if (!Number.isFinite(state.position.x) || !Number.isFinite(state.position.y)) {
    throw new GameServerError('GS_ERR_DB_INVALID_ARGUMENT', 'player position must be finite', { playerId: state.id })
  }
}

export class WriteBehindPlayerSink implements PlayerStateSink {
  private dirty = new Map<number, PlayerState>()
  private inFlight = new Map<number, PlayerState>()
  private chain: Promise<void> = Promise.resolve()
  private queued: Promise<void> | undefined
  private status: SinkStatus = 'open'
  private closing: Promise<void> | undefined
  private closeDeadline = Infinity
  private wake: (() => void) | undefined
  private readonly timer: NodeJS.Timeout
  private readonly logger: Logger
  private readonly rowsPerStatement: number
  private readonly maxDirtyPlayers: number
  private readonly retryBaseMs: number
  private readonly retryMaxMs: number
  private readonly closeDeadlineMs: number
  private readonly durableListeners: Array<(playerIds: readonly number[]) => void> = []
  private waiters = 0
  private flushedPlayers = 0
  private failedAttempts = 0
  private consecutiveFailures = 0

  constructor(
    private readonly executor: Executor,
    options: WriteBehindOptions,
  ) {
    this.logger = options.logger ?? silentLogger
    this.rowsPerStatement = options.rowsPerStatement
    this.maxDirtyPlayers = options.maxDirtyPlayers
    this.retryBaseMs = options.retryBaseMs ?? RETRY_BASE_MS
    this.retryMaxMs = options.retryMaxMs
    this.closeDeadlineMs = options.closeDeadlineMs
    if (!(this.rowsPerStatement >= 1 && this.maxDirtyPlayers >= 1 && this.retryBaseMs >= 1 && this.retryMaxMs >= this.retryBaseMs)) {
      throw new GameServerError('GS_ERR_CONFIG', 'write-behind options out of range', { ...options, logger: undefined })
    }
    this.timer = setInterval(() => {
      if (this.dirty.size > 0 && this.queued === undefined) this.schedule().catch((err: unknown) => this.logger.error({ err }, 'write-behind flush failed'))
    }, options.flushIntervalMs)
    this.timer.unref()
  }

  markDirty(state: PlayerState): void {
    this.checkAccepting(state)
    if (!this.dirty.has(state.id) && !this.inFlight.has(state.id) && this.dirty.size + this.inFlight.size >= this.maxDirtyPlayers) {
      throw new GameServerError('GS_ERR_DB_WRITE_BEHIND_FULL', `${this.maxDirtyPlayers} players are waiting to be written; state of player ${state.id} refused`, {
        playerId: state.id,
        maxDirtyPlayers: this.maxDirtyPlayers,
      })
    }
    this.dirty.set(state.id, state)
  }

  /**
   * Be told which players' state just became durable, after every committed bulk statement (also
   * the interval's own flushes): e.g. a cache in front drops those players' cached records.
   * A throwing listener is logged and does not affect the flush.
   */
  onDurable(listener: (playerIds: readonly number[]) => void): void {
    this.durableListeners.push(listener)
  }

  /** The latest state of a player not yet durable, if any. */
  pending(playerId: number): PlayerState | undefined {
    return this.dirty.get(playerId) ?? this.inFlight.get(playerId)
  }

  /**
   * Logout: take the player's final state — also beyond `maxDirtyPlayers` (it leaves the game's
   * memory as it enters ours) — and resolve once it (and everything else dirty) is durable.
   */
  async release(finalState: PlayerState): Promise<void> {
    this.checkAccepting(finalState)
    this.dirty.set(finalState.id, finalState)
    await this.flush()
  }

  /** Open and the state valid, or a typed throw: nothing invalid is ever acknowledged. */
  private checkAccepting(state: PlayerState): void {
    if (this.status !== 'open') throw new GameServerError('GS_ERR_DB_WRITE_BEHIND_CLOSED', 'the write-behind sink is closed', { playerId: state.id })
    checkState(state)
  }

  /** Resolves once everything marked before the call is durable (retrying while the database is away). */
  async flush(): Promise<void> {
    // someone waits: retry timers keep the process alive until this resolves
    this.waiters++
    try {
      await this.schedule()
    } finally {
      this.waiters--
    }
  }

  /** The flush that will cover everything marked so far (shared while it has not started). */
  private schedule(): Promise<void> {
    if (this.queued) return this.queued
    const run = this.chain.then(() => {
      this.queued = undefined
      return this.writeUntilDurable()
    })
    this.queued = run
    this.chain = run.catch(() => {})
    return run
  }

  /** Final flush (retrying until the close deadline), then stop. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  stats(): WriteBehindStats {
    return {
      dirtyPlayers: this.dirty.size,
      inFlightPlayers: this.inFlight.size,
      flushedPlayers: this.flushedPlayers,
      failedAttempts: this.failedAttempts,
      consecutiveFailures: this.consecutiveFailures,
    }
  }

  private async shutdown(): Promise<void> {
    this.status = 'closing'
    clearInterval(this.timer)
    this.closeDeadline = Date.now() + this.closeDeadlineMs
    this.wake?.()
    try {
      await this.flush()
    } finally {
      this.status = 'closed'
    }
  }

  private async writeUntilDurable(): Promise<void> {
    for (let attempt = 1; this.dirty.size > 0; attempt++) {
      try {
        await this.writeOnce()
        this.consecutiveFailures = 0
        return
      } catch (err) {
        this.failedAttempts++
        this.consecutiveFailures++
        const unsaved = this.dirty.size
        const code = (err as { code?: string }).code
        if (Date.now() >= this.closeDeadline) {
          this.logger.error({ code, unsaved }, 'write-behind: database unavailable at shutdown; unsaved players remain')
          throw new GameServerError('GS_ERR_DB_WRITE_BEHIND_CLOSED', `could not persist ${unsaved} players before the close deadline`, { unsaved }, { cause: err })
        }
        const delayMs = this.backoffMs(attempt)
        this.logger.warn({ code, attempt, unsaved, retryInMs: Math.round(delayMs) }, 'write-behind flush failed; state kept, retrying')
        await this.sleep(Math.min(delayMs, Math.max(0, this.closeDeadline - Date.now())))
      }
    }
  }

  /** One pass over the current dirty map; rows of statements that failed go back to it. */
  private async writeOnce(): Promise<void> {
    const batch = this.dirty
    this.dirty = new Map()
    this.inFlight = batch
    try {
      const states = [...batch.values()]
      for (let start = 0; start < states.length; start += this.rowsPerStatement) {
        const chunk = states.slice(start, start + this.rowsPerStatement)
        const written = await writeStates(this.executor, chunk)
        if (written < chunk.length) this.logger.warn({ missing: chunk.length - written }, 'write-behind: some players no longer exist; their state was dropped')
        for (const state of chunk) batch.delete(state.id)
        this.flushedPlayers += chunk.length
        this.notifyDurable(chunk)
      }
    } finally {
      // what is left did not commit: keep it, unless newer state of that player arrived meanwhile
      for (const [id, state] of batch) if (!this.dirty.has(id)) this.dirty.set(id, state)
      this.inFlight = new Map()
    }
  }

  private notifyDurable(chunk: readonly PlayerState[]): void {
    if (this.durableListeners.length === 0) return
    const ids = chunk.map((state) => state.id)
    for (const listener of this.durableListeners) {
      try {
        listener(ids)
      } catch (err) {
        this.logger.error({ err }, 'write-behind durable listener failed')
      }
    }
  }

  private backoffMs(attempt: number): number {
    const ceiling = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** Math.min(attempt - 1, 20))
    return ceiling / 2 + (Math.random() * ceiling) / 2 // equal jitter: servers do not retry in lockstep
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      // background retries do not keep the process alive; awaited flushes and close() do
      if (this.status === 'open' && this.waiters === 0) timer.unref()
      function done(): void {
        clearTimeout(timer)
        resolve()
      }
      this.wake = () => {
        this.wake = undefined
        done()
      }
    })
  }
}

/** One bulk UPDATE for many players; returns how many rows it changed. */
async function writeStates(executor: Executor, states: readonly PlayerState[]): Promise<number> {
  const ids: number[] = []
  const levels: number[] = []
  const experience: number[] = []
  const zones: number[] = []
  const xs: number[] = []
  const ys: number[] = []
  const hps: number[] = []
  for (const s of states) {
    ids.push(s.id)
    levels.push(s.level)
    experience.push(s.experience)
    zones.push(s.position.zone)
    xs.push(s.position.x)
    ys.push(s.position.y)
    hps.push(s.hp)
  }
  const result = await executor.run('writeBehind.flush', (sql) => sql`
    UPDATE players AS p
    SET level = v.level, experience = v.experience, zone = v.zone, pos_x = v.x, pos_y = v.y, hp = v.hp,
        version = p.version + 1
    FROM unnest(${ids}::int[], ${levels}::int[], ${experience}::bigint[], ${zones}::int[],
                ${xs}::float8[], ${ys}::float8[], ${hps}::int[]) AS v(id, level, experience, zone, x, y, hp)
    WHERE p.id = v.id`)
  return result.count
}
