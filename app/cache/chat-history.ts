/**
 * Chat history per channel in a Redis list (`gs:chat:{zone-1}`): append is RPUSH + LTRIM to the
 * cap in one MULTI (one round trip, never longer than the cap); reading the last N is LRANGE,
 * which removes nothing. Every append is mirrored into a small local ring per channel, which
 * answers reads while the channel's shard is unavailable (this node's view, counted as a fallback).
 */
import { assertKeyPart, keys } from './keys.js'
import type { ShardSet } from './shards.js'

/** Channels mirrored locally for fallback reads; the oldest is dropped beyond it. */
const MAX_LOCAL_CHANNELS = 1024

export interface ChatEntry {
  readonly playerId: number
  readonly username: string
  readonly text: string
  readonly sentAtMs: number
}

/** What the game calls (an in-memory implementation can stand in when there is no Redis). */
export interface ChatHistory {
  append(channel: string, entry: ChatEntry): Promise<void>
  /** The last `count` entries, oldest first. */
  recent(channel: string, count: number): Promise<ChatEntry[]>
}

export interface RedisChatHistoryOptions {
  /** Entries kept per channel (CHAT_HISTORY). */
  readonly capPerChannel: number
  /** Channels mirrored locally for fallback reads (oldest channel dropped beyond it). */
  readonly maxLocalChannels?: number
}

function decode(text: string): ChatEntry | undefined {
  try {
    const raw = JSON.parse(text) as Partial<ChatEntry>
    if (typeof raw.playerId !== 'number' || typeof raw.username !== 'string' || typeof raw.text !== 'string' || typeof raw.sentAtMs !== 'number') return undefined
    return { playerId: raw.playerId, username: raw.username, text: raw.text, sentAtMs: raw.sentAtMs }
  } catch {
    return undefined
  }
}

export class RedisChatHistory implements ChatHistory {
  private readonly cap: number
  private readonly maxLocalChannels: number
  private readonly local = new Map<string, ChatEntry[]>()

  constructor(
    private readonly shards: ShardSet,
    options: RedisChatHistoryOptions,
  ) {
    if (!Number.isInteger(options.capPerChannel) || options.capPerChannel < 1) throw new RangeError('capPerChannel must be a positive integer')
    this.cap = options.capPerChannel
    this.maxLocalChannels = options.maxLocalChannels ?? MAX_LOCAL_CHANNELS
  }

  async append(channel: string, entry: ChatEntry): Promise<void> {
    const key = this.key(channel)
    this.remember(channel, entry)
    const shard = this.shards.shardFor(key)
    const outcome = await shard.exec((client) =>
      client
        .multi()
        .rpush(key, JSON.stringify({ playerId: entry.playerId, username: entry.username, text: entry.text, sentAtMs: entry.sentAtMs }))
        .ltrim(key, -this.cap, -1)
        .exec()
        .then((replies) => {
          const failed = replies?.find(([err]) => err)
          if (!replies || failed) throw failed?.[0] ?? new Error('chat append transaction aborted')
        }),
    )
    if (!outcome.ok) shard.skippedWrite()
  }

  async recent(channel: string, count: number): Promise<ChatEntry[]> {
    const key = this.key(channel)
    const wanted = Math.min(Math.floor(count), this.cap)
    if (wanted <= 0) return []
    const shard = this.shards.shardFor(key)
    const outcome = await shard.command((client) => client.lrange(key, -wanted, -1))
    if (!outcome.ok) {
      shard.fellBack()
      return (this.local.get(channel) ?? []).slice(-wanted)
    }
    if (outcome.value.length > 0) shard.hit()
    else shard.miss()
    const out: ChatEntry[] = []
    for (const text of outcome.value) {
      const entry = decode(text)
      if (entry) out.push(entry)
    }
    return out
  }

  private remember(channel: string, entry: ChatEntry): void {
    let ring = this.local.get(channel)
    if (!ring) {
      if (this.local.size >= this.maxLocalChannels) this.local.delete(this.local.keys().next().value as string)
      this.local.set(channel, (ring = []))
    }
    ring.push(entry)
    if (ring.length > this.cap) ring.splice(0, ring.length - this.cap)
  }

  private key(channel: string): string {
    assertKeyPart('chat channel', channel)
    return keys.chat(channel)
  }
}
