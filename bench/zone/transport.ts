/**
 * What the zone-replication generator needs from a server's protocol: join a player, send its
 * moves, and — for the observers among the players — report every position of another player the
 * client learns about. One implementation per server (ours-transport.ts, colyseus-transport.ts);
 * the generator, the schedule and the latency accounting are shared.
 *
 * A protocol change is a change of its transport only: ours-transport.ts decodes protocol version 2
 * (ZONE_UPDATE entries and PLAYER_JOINED → `position`, PLAYER_LEFT → `left`).
 */

/**
 * `observer`: decodes everything it receives like a real client and reports positions (latency
 * is measured on these). `counter`: counts bytes and messages only, so a generator on one core
 * can hold thousands of players.
 */
export type Role = 'observer' | 'counter'

/** The server's identity of a player: our player_id, a Colyseus sessionId. */
export type PlayerKey = number | string

export interface PositionSink {
  /** The client now knows player `subject` at (x, y); `receivedAt` is performance.now() of the read that carried it. */
  position(subject: PlayerKey, x: number, y: number, receivedAt: number): void
  /** The client was told that `subject` is gone (left the zone or, later, the view). */
  left(subject: PlayerKey): void
}

export interface ConnectionCounters {
  /** Bytes received from the server (transport framing included: our frame headers, WebSocket frame headers). */
  bytesIn: number
  /** Messages received: our top-level frames (a BATCH counts once), WebSocket messages (one per patch). */
  messagesIn: number
  /**
   * Moves the server answered with an ERROR (ours: MOVE_REJECTED, or OVERLOADED when its inbound
   * queue sheds them): observers see every one; counters only those not packed into a BATCH.
   */
  movesRefused: number
  /** Wire error code of the last refusal (0: none). */
  lastRefusalCode: number
}

export interface ZoneConnection {
  readonly key: PlayerKey
  readonly counters: ConnectionCounters
  /** Set when the connection ended before close() (the reason, for the report). */
  readonly failure: string | undefined
  sendMove(x: number, y: number): void
  /**
   * Show the server the client is alive while others are still joining (a join phase of thousands
   * of players outlasts our IDLE_TIMEOUT_MS). Not called once moves flow.
   */
  keepAlive(): void
  /** End the connection; idempotent, never rejects. */
  close(): Promise<void>
}

export interface ZoneTransport {
  /** For the report, e.g. `ours (TCP, protocol 2: …)`. */
  readonly label: string
  /** Join player `index`; an observer gets `sink`. Rejects with a clear message when the server refuses. */
  join(index: number, role: Role, sink: PositionSink | undefined): Promise<ZoneConnection>
}

export interface TransportTarget {
  readonly host: string
  readonly port: number
  /** Distinguishes this run's accounts from earlier ones on the same server (our REGISTER needs unique names). */
  readonly runId: string
}
