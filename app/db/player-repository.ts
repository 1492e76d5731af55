/**
 * Repository<Player> done right: every value a bound parameter (callers pass typed filters, never
 * SQL text), `INSERT … RETURNING` for the new id, optimistic concurrency on `version` (a lost race
 * is `GS_ERR_DB_VERSION_CONFLICT`, never a silent overwrite), keyset pagination with an opaque
 * cursor. `repository.with(tx)` gives the same repository inside a transaction.
 */
import { GameServerError } from '../errors.js'
import type { NewAccount, PlayerRecord, Position } from '../game/stores.js'
import type { Executor, SqlTag } from './pool.js'
import { toPlayerRecord, type PlayerRow } from './player-rows.js'

export interface NewPlayer extends NewAccount {
  readonly level?: number
  readonly experience?: number
  readonly gold?: number
}

/** Fields an update may change; absent fields keep their value. */
export interface PlayerChanges {
  readonly email?: string | null
  readonly passwordHash?: string
  readonly level?: number
  readonly experience?: number
  readonly gold?: number
  readonly position?: Position
  readonly hp?: number
  readonly lastLogin?: Date | null
}

/** Keyset orders: `id` ascending, `level` ascending then `id`, `levelDesc` (leaderboard) descending on both. */
type PlayerOrder = 'id' | 'level' | 'levelDesc'

export interface PlayerFilter {
  readonly minLevel?: number
  readonly maxLevel?: number
  /** Usernames starting with this text (matched literally: `%` and `_` are not wildcards). */
  readonly usernamePrefix?: string
  readonly zone?: number
  /** Keyset order (default `id`). */
  readonly orderBy?: PlayerOrder
  /** Page size, 1…1000 (default 100). */
  readonly limit?: number
  /** `nextCursor` of the previous page (same filter and order). */
  readonly after?: string
}

export interface PlayerPage {
  readonly players: readonly PlayerRecord[]
  /** Pass as `after` for the next page; undefined on the last page. */
  readonly nextCursor: string | undefined
}

export interface GoldGrant {
  /** Players whose gold was raised (one `gold_granted` game_log row each). */
  readonly players: number
  /** id of the summary `gold_grant` game_log row. */
  readonly grantLogId: number
}

const MAX_PAGE_SIZE = 1000
const DEFAULT_PAGE_SIZE = 100

function invalid(message: string, context: Record<string, unknown>): GameServerError {
  return new GameServerError('GS_ERR_DB_INVALID_ARGUMENT', message, context)
}

function requireInt(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) throw invalid(`${name} must be an integer in [${min}, ${max}]`, { [name]: value })
  return value
}

function requireFinite(name: string, value: number): number {
  if (!Number.isFinite(value)) throw invalid(`${name} must be a finite number`, { [name]: value })
  return value
}

function validateChanges(changes: PlayerChanges): void {
  if (changes.level !== undefined) requireInt('level', changes.level, 1, 2 ** 31 - 1)
  if (changes.experience !== undefined) requireInt('experience', changes.experience, 0)
  if (changes.gold !== undefined) requireInt('gold', changes.gold, 0)
  if (changes.hp !== undefined) requireInt('hp', changes.hp, -(2 ** 31), 2 ** 31 - 1)
  if (changes.position !== undefined) {
    requireInt('zone', changes.position.zone, 0, 2 ** 31 - 1)
    requireFinite('x', changes.position.x)
    requireFinite('y', changes.position.y)
  }
}

interface Cursor {
  readonly o: PlayerOrder
  readonly k: readonly number[]
}

function encodeCursor(order: PlayerOrder, last: PlayerRecord): string {
  const cursor: Cursor = { o: order, k: order === 'id' ? [last.id] : [last.level, last.id] }
  return Buffer.from(JSON.stringify(cursor)).toString('base64url')
}

function decodeCursor(raw: string, order: PlayerOrder): Cursor {
  let cursor: unknown
  try {
    cursor = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'))
  } catch {
    throw invalid('the page cursor is malformed', { after: raw })
  }
  const c = cursor as Partial<Cursor> | null
  const keys = order === 'id' ? 1 : 2
  if (!c || c.o !== order || !Array.isArray(c.k) || c.k.length !== keys || !c.k.every((k) => Number.isSafeInteger(k))) {
    throw invalid(`the page cursor does not belong to a listing ordered by ${order}`, { after: raw, orderBy: order })
  }
  return c as Cursor
}

/** `a AND b AND c` (or nothing) from fragments. */
function whereClause(sql: SqlTag, conditions: readonly ReturnType<SqlTag>[]) {
  if (conditions.length === 0) return sql``
  return conditions.slice(1).reduce((acc, condition) => sql`${acc} AND ${condition}`, sql`WHERE ${conditions[0]!}`)
}

function columns(sql: SqlTag) {
  return sql`id, username, email, password_hash, level, experience, gold, zone, pos_x, pos_y, hp, created_at, last_login, version`
}

export class PlayerRepository {
  constructor(private readonly executor: Executor) {}

  /** This repository on another executor (a transaction or savepoint). */
  with(executor: Executor): PlayerRepository {
    return new PlayerRepository(executor)
  }

  async create(player: NewPlayer): Promise<PlayerRecord> {
    if (typeof player.username !== 'string' || player.username.length === 0 || player.username.length > 64) {
      throw invalid('username must be 1…64 characters', { username: player.username })
    }
    validateChanges({ level: player.level, experience: player.experience, gold: player.gold, hp: player.hp, position: player.position })
    const rows = await this.executor.run('player.create', (sql) => sql<PlayerRow[]>`
      INSERT INTO players (username, email, password_hash, level, experience, gold, zone, pos_x, pos_y, hp)
      VALUES (${player.username}, ${player.email ?? null}, ${player.passwordHash}, ${player.level ?? 1}, ${player.experience ?? 0},
              ${player.gold ?? 0}, ${player.position.zone}, ${player.position.x}, ${player.position.y}, ${player.hp})
      RETURNING id, username, email, password_hash, level, experience, gold, zone, pos_x, pos_y, hp, created_at, last_login, version`)
    return toPlayerRecord(rows[0]!)
  }

  async findById(id: number): Promise<PlayerRecord | undefined> {
    if (!Number.isSafeInteger(id) || id < 1 || id > 2 ** 31 - 1) return undefined
    const rows = await this.executor.run('player.findById', (sql) => sql<PlayerRow[]>`SELECT id, username, email, password_hash, level, experience, gold, zone, pos_x, pos_y, hp, created_at, last_login, version FROM players WHERE id = ${id}`)
    return rows[0] && toPlayerRecord(rows[0])
  }

  async findByUsername(username: string): Promise<PlayerRecord | undefined> {
    const rows = await this.executor.run('player.findByUsername', (sql) => sql<PlayerRow[]>`SELECT id, username, email, password_hash, level, experience, gold, zone, pos_x, pos_y, hp, created_at, last_login, version FROM players WHERE lower(username) = lower(${username})`)
    return rows[0] && toPlayerRecord(rows[0])
  }

  /** One page of players matching `filter`, in keyset order. */
  async findMany(filter: PlayerFilter = {}): Promise<PlayerPage> {
    const order = filter.orderBy ?? 'id'
    if (order !== 'id' && order !== 'level' && order !== 'levelDesc') throw invalid('orderBy must be id, level or levelDesc', { orderBy: order })
    const limit = requireInt('limit', filter.limit ?? DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    if (filter.minLevel !== undefined) requireInt('minLevel', filter.minLevel, 0)
    if (filter.maxLevel !== undefined) requireInt('maxLevel', filter.maxLevel, 0)
    if (filter.zone !== undefined) requireInt('zone', filter.zone, 0, 2 ** 31 - 1)
    const cursor = filter.after === undefined ? undefined : decodeCursor(filter.after, order)
    const rows = await this.executor.run(`player.findMany.${order}`, (sql) => {
      const conditions: ReturnType<SqlTag>[] = []
      if (filter.minLevel !== undefined) conditions.push(sql`level >= ${filter.minLevel}`)
      if (filter.maxLevel !== undefined) conditions.push(sql`level <= ${filter.maxLevel}`)
      if (filter.zone !== undefined) conditions.push(sql`zone = ${filter.zone}`)
      if (filter.usernamePrefix !== undefined && filter.usernamePrefix !== '') {
        conditions.push(sql`username LIKE ${filter.usernamePrefix.replace(/[\\%_]/g, '\\$&') + '%'}`)
      }
      if (cursor) {
        if (order === 'id') conditions.push(sql`id > ${cursor.k[0]!}`)
        else if (order === 'level') conditions.push(sql`(level, id) > (${cursor.k[0]!}, ${cursor.k[1]!})`)
        else conditions.push(sql`(level, id) < (${cursor.k[0]!}, ${cursor.k[1]!})`)
      }
      // (level, id) serves both level orders, read forwards or backwards
      const orderBy = order === 'id' ? sql`ORDER BY id` : order === 'level' ? sql`ORDER BY level, id` : sql`ORDER BY level DESC, id DESC`
      return sql<PlayerRow[]>`SELECT ${columns(sql)} FROM players ${whereClause(sql, conditions)} ${orderBy} LIMIT ${limit + 1}`
    })
    const players = rows.slice(0, limit).map(toPlayerRecord)
    const last = players[players.length - 1]
    return { players, nextCursor: rows.length > limit && last ? encodeCursor(order, last) : undefined }
  }

  /**
   * Apply `changes` if the row still has `expectedVersion`; returns the new record (version + 1).
   * A changed version is `GS_ERR_DB_VERSION_CONFLICT`, a missing row `GS_ERR_DB_NOT_FOUND`.
   */
  async update(id: number, expectedVersion: number, changes: PlayerChanges): Promise<PlayerRecord> {
    validateChanges(changes)
    // one static prepared statement: NULL keeps a column (email and last_login, which may be set
    // to NULL, carry a flag); building SET lists per call cost a third of the throughput
    const position = changes.position
    const rows = await this.executor.run('player.update', (sql) => sql<PlayerRow[]>`
      UPDATE players SET
        version = version + 1,
        email = CASE WHEN ${changes.email !== undefined} THEN ${changes.email ?? null}::text ELSE email END,
        password_hash = COALESCE(${changes.passwordHash ?? null}::text, password_hash),
        level = COALESCE(${changes.level ?? null}::int, level),
        experience = COALESCE(${changes.experience ?? null}::bigint, experience),
        gold = COALESCE(${changes.gold ?? null}::bigint, gold),
        hp = COALESCE(${changes.hp ?? null}::int, hp),
        zone = COALESCE(${position?.zone ?? null}::int, zone),
        pos_x = COALESCE(${position?.x ?? null}::float8, pos_x),
        pos_y = COALESCE(${position?.y ?? null}::float8, pos_y),
        last_login = CASE WHEN ${changes.lastLogin !== undefined} THEN ${changes.lastLogin ?? null}::timestamptz ELSE last_login END
      WHERE id = ${id} AND version = ${expectedVersion}
      RETURNING id, username, email, password_hash, level, experience, gold, zone, pos_x, pos_y, hp, created_at, last_login, version`)
    if (rows[0]) return toPlayerRecord(rows[0])
    const current = await this.findById(id)
    if (!current) throw new GameServerError('GS_ERR_DB_NOT_FOUND', `player ${id} does not exist`, { id })
    throw new GameServerError('GS_ERR_DB_VERSION_CONFLICT', `player ${id} changed since version ${expectedVersion} was read`, {
      id,
      expectedVersion,
      actualVersion: current.version,
    })
  }

  /** Delete a player; false when there was none. Their game_log rows keep `player_id = NULL`. */
  async delete(id: number): Promise<boolean> {
    const rows = await this.executor.run('player.delete', (sql) => sql`DELETE FROM players WHERE id = ${id} RETURNING id`)
    return rows.length === 1
  }

  /** Record one game_log row; returns its id. */
  async log(event: string, playerId: number | null, payload: Readonly<Record<string, unknown>> = {}): Promise<number> {
    if (event.length < 1 || event.length > 64) throw invalid('event must be 1…64 characters', { event })
    const rows = await this.executor.run('gameLog.insert', (sql) => sql<{ id: string }[]>`
      INSERT INTO game_log (event, player_id, payload) VALUES (${event}, ${playerId}, ${sql.json(payload as never)}) RETURNING id`)
    return Number(rows[0]!.id)
  }

  /**
   * A gold grant ("UPDATE players SET gold = gold + 100 WHERE level >= 5") done right: bound
   * parameters, and in one transaction (a savepoint when already in one) the gold of every player
   * at or above `minLevel`, one `gold_granted` game_log row per player, and a `gold_grant` summary
   * row — all or nothing.
   */
  async grantGold(minLevel: number, amount: number, reason: string): Promise<GoldGrant> {
    requireInt('minLevel', minLevel, 0)
    requireInt('amount', amount, 1, 1_000_000_000)
    if (typeof reason !== 'string' || reason.length < 1 || reason.length > 200) throw invalid('reason must be 1…200 characters', { reason })
    return this.executor.withTransaction(async (tx) => {
      const granted = await tx.run('player.grantGold', (sql) => sql<{ count: string }[]>`
        WITH granted AS (
          UPDATE players SET gold = gold + ${amount}, version = version + 1
          WHERE level >= ${minLevel}
          RETURNING id, gold
        ), logged AS (
          INSERT INTO game_log (event, player_id, payload)
          SELECT 'gold_granted', id, jsonb_build_object('amount', ${amount}::bigint, 'reason', ${reason}::text, 'gold', gold) FROM granted
          RETURNING 1
        )
        SELECT count(*) AS count FROM logged`)
      const players = Number(granted[0]!.count)
      const grantLogId = await this.with(tx).log('gold_grant', null, { minLevel, amount, reason, players })
      return { players, grantLogId }
    })
  }
}
