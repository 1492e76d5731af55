/// <reference lib="dom" />
/**
 * The playground's script (bundled for the browser by build.ts, served as /client.js): the typed
 * client over a WebSocket to the page's own server, a `ZoneView` fed with every frame, and a
 * canvas redrawn from it. It is also the reference browser client: everything a web game needs
 * is here — connect (ws: or wss: as the page was loaded), register or log in, send moves, chat and
 * attacks, and keep the zone's picture from the pushed frames.
 *
 * `window.playground` exposes the same operations (the browser test drives the page with them).
 */
import { GameClient } from '../client/game-client.js'
import { ZoneView } from '../client/zone-view.js'
import { isGameServerError } from '../errors.js'
import { FrameType } from '../protocol/types.js'

/** Moves are sent at most this often while walking (the server checks MAX_SPEED between them). */
const STEP_MS = 100
/** How long a hit stays drawn. */
const HIT_FLASH_MS = 600
/** Pixels around a dot that count as clicking it. */
const PICK_RADIUS_PX = 10

const view = new ZoneView()
let client: GameClient | null = null
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
  fresh.connection.onFrame((frame) => {
    if (!view.apply(frame)) return
    draw()
    if (frame.type === FrameType.CHAT_MESSAGE) renderChat()
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
  // the view took LOGIN_OK (and the zone snapshot right behind it) from the frame listener
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

// ── drawing ────────────────────────────────────────────────────────────────────────────────────

function scale(): number {
  return canvas.width / Math.max(1, view.zoneSize)
}

function toCanvas(x: number, y: number): [number, number] {
  const s = scale()
  return [(x - view.zone * view.zoneSize) * s, y * s]
}

function draw(): void {
  context.clearRect(0, 0, canvas.width, canvas.height)
  if (view.selfId === 0) return
  const now = performance.now()
  for (const hit of view.hits) {
    const age = now - hit.at
    const attacker = view.players.get(hit.attackerId)
    const target = view.players.get(hit.targetId)
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
  for (const player of view.players.values()) {
    const [px, py] = toCanvas(player.x, player.y)
    context.fillStyle = player.hp === 0 ? '#aaa' : player.id === view.selfId ? '#1565c0' : '#ef6c00'
    context.beginPath()
    context.arc(px, py, player.id === view.selfId ? 6 : 5, 0, Math.PI * 2)
    context.fill()
    context.fillStyle = '#333'
    context.fillText(`${player.username} ${player.hp}`, px + 8, py + 4)
  }
  const self = view.self
  $('me').textContent = self ? `You: ${self.username} at (${self.x.toFixed(1)}, ${self.y.toFixed(1)}), hp ${self.hp}/${view.maxHp}, zone ${view.zone}; ${view.players.size - 1} other player(s) in view` : ''
  if (!animating && view.hits.some((hit) => now - hit.at < HIT_FLASH_MS)) {
    animating = true
    requestAnimationFrame(() => {
      animating = false
      draw()
    })
  }
}

function renderChat(): void {
  chatLog.replaceChildren(...view.chat.map((line) => {
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
    while (walkTarget !== null && client !== null && view.self) {
      const self = view.self
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
  if (view.selfId === 0) return
  const rect = canvas.getBoundingClientRect()
  const cx = event.clientX - rect.left
  const cy = event.clientY - rect.top
  for (const player of view.players.values()) {
    if (player.id === view.selfId) continue
    const [px, py] = toCanvas(player.x, player.y)
    if (Math.hypot(px - cx, py - cy) <= PICK_RADIUS_PX) {
      attack(player.id).catch((err) => say(`Attack: ${describe(err)}`, true))
      return
    }
  }
  walkTarget = { x: view.zone * view.zoneSize + cx / scale(), y: cy / scale() }
  void walk()
})

const KEYS: Readonly<Record<string, readonly [number, number]>> = {
  ArrowUp: [0, -1], KeyW: [0, -1], ArrowDown: [0, 1], KeyS: [0, 1], ArrowLeft: [-1, 0], KeyA: [-1, 0], ArrowRight: [1, 0], KeyD: [1, 0],
}
document.addEventListener('keydown', (event) => {
  const direction = KEYS[event.code]
  const self = view.self
  if (direction === undefined || self === undefined || (event.target as HTMLElement).tagName === 'INPUT') return
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

const playground = { view, login, moveTo, chat, attack, webSocketUrl }
window.playground = playground
