/** A fixed-capacity ring of the last N chat messages of one zone (oldest first when read). */
import type { ChatMessage } from '../protocol/messages.js'

export class ChatHistory {
  private readonly ring: (ChatMessage | undefined)[]
  private next = 0
  private count = 0

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer')
    this.ring = new Array<ChatMessage | undefined>(capacity)
  }

  push(message: ChatMessage): void {
    this.ring[this.next] = message
    this.next = (this.next + 1) % this.capacity
    if (this.count < this.capacity) this.count++
  }

  get size(): number {
    return this.count
  }

  /** Oldest first. */
  messages(): ChatMessage[] {
    const out: ChatMessage[] = []
    const start = (this.next - this.count + this.capacity) % this.capacity
    for (let i = 0; i < this.count; i++) out.push(this.ring[(start + i) % this.capacity]!)
    return out
  }
}
