/// <reference lib="dom" />
/**
 * The playground's script (bundled for the browser by build.ts, served as /client.js): the typed
 * client over a WebSocket to the page's own server — which keeps the zone's picture itself
 * (`client.view`, `client.self`: app/client/zone-view.ts) — the chat and hits it heard, and a
 * canvas redrawn after every frame. It is also the reference browser client: everything a web game
 * needs is here — connect (ws: or wss: as the page was loaded), register or log in, send moves,
 * chat and attacks, and draw the zone from the pushed frames.
 *
 * `window.playground` exposes the same operations (the browser test drives the page with them).
 */
import type { ReceivedFrame } from '../client/connection.js'
import { GameClient } from '../client/game-client.js'
import type { ViewedPlayer } from '../client/zone-view.js'
import { isGameServerError } from '../errors.js'
import { ChatFlags, decodeAttackResult, decodeChatMessage } from '../protocol/messages.js'
import { FrameType } from '../protocol/types.js'

/** Moves are sent at most this often while walking (the server checks MAX_SPEED between them). */
const STEP_MS = 100
/** How long a hit stays drawn. */
const HIT_FLASH_MS = 600
/** Pixels around a dot that count as clicking it. */
const PICK_RADIUS_PX = 10

interface HeardChat {
  readonly senderId: number
  readonly username: string
  readonly text: string
  readonly history: boolean
}

interface SeenHit {
  readonly attackerId: number
  readonly targetId: number
  readonly damage: number
  readonly killed: boolean
  /** performance.now() when it arrived. */
  readonly at: number
}

/** Chat lines and hits kept for display (oldest dropped first). */
const KEPT_CHAT = 200
const KEPT_HITS = 50

let client: GameClient | null = null
const chatLines: HeardChat[] = []
const hits: SeenHit[] = []
let walkTarget: { x: number; y: number } | null = null
let walking = false
let lastMoveAt = 0
/** A redraw is scheduled for fading hits. */
let animating = false

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T
const canvas = $<HTMLCanvasElement>('zone')
const context = canvas.getContext('2d')!
const status = $<HTMLDivElement>('status')
const chatLog = $<HTMLDivElement>('chat-log')

function say(text: string, error = false): void {
  status.textContent = text
  status.className = error ? 'error' : ''
}

function webSocketUrl(): string {
  const path = document.querySelector<HTMLMetaElement>('meta[name="gs-websocket-path"]')?.content ?? '/ws'
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`
}

function describe(err: unknown): string {
  if (isGameServerError(err, 'GS_ERR_REQUEST_REJECTED')) return `refused (wire error ${String(err.context.wireCode)}): ${err.message}`
  return err instanceof Error ? err.message : String(err)
}

async function connect(): Promise<GameClient> {
  if (client !== null && client.connection.status === 'open') return client
  const fresh = await GameClient.connect({ host: location.hostname, port: 0, url: webSocketUrl(), inboxCapacity: 0 })
  // After the client's own listener: its view already holds what this frame changed.
  fresh.connection.onFrame((frame) => {
    if (frame.type === FrameType.LOGIN_OK) {
      chatLines.length = 0
      hits.length = 0
    } else if (frame.type === FrameType.CHAT_MESSAGE) heardChat(frame)
    else if (frame.type === FrameType.ATTACK_RESULT) sawHit(frame)
    draw()
  })
  void fresh.connection.closed.then(() => {
    const code = fresh.connection.closeCode
    say(`Disconnected${code === null ? '' : ` (close code ${code})`}.`, true)
    client = null
  })
  client = fresh
  return fresh
}

async function login(username: string, password: string, register: boolean): Promise<number> {
  const connection = await connect()
  // the client took LOGIN_OK (and the zone snapshot right behind it) as the frames arrived
  const ok = register ? await connection.register(username, password) : await connection.login(username, password)
  say(`Logged in as ${ok.username} (player ${ok.playerId}), zone ${ok.zone}.`)
  renderChat()
  draw()
  return ok.playerId
}

// Replies (PLAYER_MOVED, CHAT_MESSAGE, ATTACK_RESULT with our seq) reach the view through the
// connection's frame listener like every pushed frame, so these only send and await.

async function moveTo(x: number, y: number): Promise<void> {
  if (client === null) throw new Error('not logged in')
  await client.move(x, y)
}

async function chat(text: string): Promise<void> {
  if (client === null) throw new Error('not logged in')
  await client.chat(text)
}

async function attack(targetId: number): Promise<void> {
  if (client === null) throw new Error('not logged in')
  await client.attack(targetId)
}

/** docs/PROTOCOL.md §4.8 rule 4: the stream copy (seq 0) of our own live chat or attack repeats our reply. */
function ownStreamCopy(frame: ReceivedFrame, senderId: number): boolean {
  return frame.seq === 0 && client !== null && senderId === client.playerId
}

function heardChat(frame: ReceivedFrame): void {
  const m = decodeChatMessage(frame.payload)
  const history = (m.flags & ChatFlags.HISTORY) !== 0
  if (!history && ownStreamCopy(frame, m.senderId)) return
  chatLines.push({ senderId: m.senderId, username: m.username, text: m.text, history })
  if (chatLines.length > KEPT_CHAT) chatLines.shift()
  renderChat()
}

function sawHit(frame: ReceivedFrame): void {
  const m = decodeAttackResult(frame.payload)
  if (ownStreamCopy(frame, m.attackerId)) return
  hits.push({ attackerId: m.attackerId, targetId: m.targetId, damage: m.damage, killed: m.killed, at: frame.receivedAt })
  if (hits.length > KEPT_HITS) hits.shift()
}

/** Everyone drawn: the players in view and ourselves. */
function everyone(): ViewedPlayer[] {
  if (client === null || client.self === null) return []
  return [...client.view.values(), client.self]
}

/** Where the page's picture has `playerId` (ourselves included) and its hit points, or null. */
function positionOf(playerId: number): { x: number; y: number; hp: number } | null {
  const player = everyone().find((p) => p.playerId === playerId)
  return player === undefined ? null : { x: player.x, y: player.y, hp: player.hp }
}

// ── drawing ────────────────────────────────────────────────────────────────────────────────────

function zoneSize(): number {
  return client?.session?.zoneSize ?? 1
}

function scale(): number {
  return canvas.width / zoneSize()
}

function toCanvas(x: number, y: number): [number, number] {
  const zone = client?.self?.zone ?? 0
  return [(x - zone * zoneSize()) * scale(), y * scale()]
}

function draw(): void {
  context.clearRect(0, 0, canvas.width, canvas.height)
  const self = client?.self ?? null
  if (client === null || self === null) return
  const now = performance.now()
  const byId = new Map(everyone().map((p) => [p.playerId, p]))
  for (const hit of hits) {
    const age = now - hit.at
    const attacker = byId.get(hit.attackerId)
    const target = byId.get(hit.targetId)
    if (age > HIT_FLASH_MS || attacker === undefined || target === undefined) continue
    const [ax, ay] = toCanvas(attacker.x, attacker.y)
    const [tx, ty] = toCanvas(target.x, target.y)
    context.strokeStyle = `rgba(220, 0, 0, ${1 - age / HIT_FLASH_MS})`
    context.lineWidth = 2
    context.beginPath()
    context.moveTo(ax, ay)
    context.lineTo(tx, ty)
    context.stroke()
    context.fillStyle = context.strokeStyle
    context.fillText(hit.killed ? 'KO' : `-${hit.damage}`, tx + 8, ty - 8)
  }
  for (const player of byId.values()) {
    const mine = player.playerId === self.playerId
    const [px, py] = toCanvas(player.x, player.y)
    context.fillStyle = player.hp === 0 ? '#aaa' : mine ? '#1565c0' : '#ef6c00'
    context.beginPath()
    context.arc(px, py, mine ? 6 : 5, 0, Math.PI * 2)
    context.fill()
    context.fillStyle = '#333'
    context.fillText(`${player.username} ${player.hp}`, px + 8, py + 4)
  }
  $('me').textContent = `You: ${self.username} at (${self.x.toFixed(1)}, ${self.y.toFixed(1)}), hp ${self.hp}/${client.session?.maxHp ?? '?'}, zone ${self.zone}; ${client.view.size} other player(s) in view`
  if (!animating && hits.some((hit) => now - hit.at < HIT_FLASH_MS)) {
    animating = true
    requestAnimationFrame(() => {
      animating = false
      draw()
    })
  }
}

function renderChat(): void {
  chatLog.replaceChildren(...chatLines.map((line) => {
    const row = document.createElement('div')
    if (line.history) row.className = 'history'
    row.textContent = `${line.username}: ${line.text}`
    return row
  }))
  chatLog.scrollTop = chatLog.scrollHeight
}

// ── input ──────────────────────────────────────────────────────────────────────────────────────

function speed(): number {
  return Math.max(1, Number($<HTMLInputElement>('speed').value) || 9)
}

/** Walk towards `walkTarget` one step per STEP_MS, within the speed the player set. */
async function walk(): Promise<void> {
  if (walking) return
  walking = true
  try {
    while (walkTarget !== null && client !== null && client.self !== null) {
      const self = client.self
      const dx = walkTarget.x - self.x
      const dy = walkTarget.y - self.y
      const distance = Math.hypot(dx, dy)
      if (distance < 0.01) break
      const wait = lastMoveAt + STEP_MS - performance.now()
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
      const elapsedSeconds = Math.max(STEP_MS, performance.now() - lastMoveAt) / 1000
      const step = Math.min(distance, speed() * Math.min(elapsedSeconds, 1))
      lastMoveAt = performance.now()
      await moveTo(self.x + (dx / distance) * step, self.y + (dy / distance) * step)
    }
  } catch (err) {
    say(`Move: ${describe(err)}`, true)
  } finally {
    walking = false
    walkTarget = null
  }
}

canvas.addEventListener('click', (event) => {
  if (client === null || client.self === null) return
  const rect = canvas.getBoundingClientRect()
  const cx = event.clientX - rect.left
  const cy = event.clientY - rect.top
  for (const player of client.view.values()) {
    const [px, py] = toCanvas(player.x, player.y)
    if (Math.hypot(px - cx, py - cy) <= PICK_RADIUS_PX) {
      attack(player.playerId).catch((err) => say(`Attack: ${describe(err)}`, true))
      return
    }
  }
  walkTarget = { x: client.self.zone * zoneSize() + cx / scale(), y: cy / scale() }
  void walk()
})

const KEYS: Readonly<Record<string, readonly [number, number]>> = {
  ArrowUp: [0, -1], KeyW: [0, -1], ArrowDown: [0, 1], KeyS: [0, 1], ArrowLeft: [-1, 0], KeyA: [-1, 0], ArrowRight: [1, 0], KeyD: [1, 0],
}
document.addEventListener('keydown', (event) => {
  const direction = KEYS[event.code]
  const self = client?.self ?? null
  if (direction === undefined || self === null || (event.target as HTMLElement).tagName === 'INPUT') return
  event.preventDefault()
  const step = speed() * (STEP_MS / 1000)
  walkTarget = { x: self.x + direction[0] * step, y: self.y + direction[1] * step }
  void walk()
})

$<HTMLFormElement>('login').addEventListener('submit', (event) => {
  event.preventDefault()
  const register = (event.submitter as HTMLButtonElement | null)?.name === 'register'
  say(register ? 'Registering…' : 'Logging in…')
  login($<HTMLInputElement>('username').value, $<HTMLInputElement>('password').value, register).catch((err) => say(describe(err), true))
})

$<HTMLFormElement>('chat').addEventListener('submit', (event) => {
  event.preventDefault()
  const input = $<HTMLInputElement>('chat-text')
  const text = input.value.trim()
  if (text === '') return
  input.value = ''
  chat(text).catch((err) => say(`Chat: ${describe(err)}`, true))
})

declare global {
  interface Window {
    playground: typeof playground
  }
}

const playground = {
  login,
  moveTo,
  chat,
  attack,
  webSocketUrl,
  positionOf,
  /** The chat lines heard, oldest first. */
  chatTexts: (): string[] => chatLines.map((line) => line.text),
  /** Hits seen so far (attacker, target, damage). */
  hitsSeen: (): { attackerId: number; targetId: number; damage: number }[] => hits.map(({ attackerId, targetId, damage }) => ({ attackerId, targetId, damage })),
  /** Players in view (ourselves excluded). */
  othersInView: (): number => client?.view.size ?? 0,
}
window.playground = playground
