/**
 * Session objects (with their decoder, token buckets, error scratch and outbound state) are reused
 * (allocating them per connection costs a connect storm dearly, see BENCHMARKS.md): a session goes back to the pool the moment its socket has
 * closed and the game was told, not after a fixed delay. At most `maxFree` wait in the pool.
 */
import type { Session } from './session.js'

export interface SessionPoolStats {
  readonly free: number
  readonly created: number
  readonly reused: number
  readonly dropped: number
}

export class SessionPool {
  private readonly free: Session[] = []
  private created = 0
  private reused = 0
  private dropped = 0

  constructor(
    private readonly maxFree: number,
    private readonly create: () => Session,
  ) {}

  acquire(): Session {
    const session = this.free.pop()
    if (session !== undefined) {
      this.reused++
      return session
    }
    this.created++
    return this.create()
  }

  release(session: Session): void {
    if (session.state !== 'closed') throw new Error(`session released in state ${session.state}`)
    session.recycle()
    if (this.free.length >= this.maxFree) {
      this.dropped++
      return
    }
    this.free.push(session)
  }

  stats(): SessionPoolStats {
    return { free: this.free.length, created: this.created, reused: this.reused, dropped: this.dropped }
  }
}
