/**
 * The playground in a real browser (Debian's Chromium through playwright-core): the page and its
 * client are served by the game server's WebSocket listener; two pages register over WebSocket,
 * one moves and chats, the other sees it, and a TCP client in the same zone sees both browser
 * players — one zone, two transports. A page from a foreign origin cannot connect.
 */
import { existsSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { decodeChatMessage } from '../../app/protocol/messages.js'
import { FrameType } from '../../app/protocol/types.js'
import { eventually } from '../harness/eventually.js'
import { Harness } from '../harness/index.js'
import { PASSWORD, startGame, uniqueUsername, type GameFixture } from './game-support.js'

const CHROMIUM = '/usr/bin/chromium'
const test = suite('playground in Chromium over WebSocket')
const harness = new Harness()
let game: GameFixture
let browser: Browser | null = null

/** What the page exposes as `window.playground` (browser.ts), as far as the test uses it. */
interface PagePlayground {
  login(username: string, password: string, register: boolean): Promise<number>
  moveTo(x: number, y: number): Promise<void>
  chat(text: string): Promise<void>
  positionOf(playerId: number): { x: number; y: number; hp: number } | null
  chatTexts(): string[]
  attack(targetId: number): Promise<void>
  hitsSeen(): { attackerId: number; targetId: number; damage: number }[]
}
declare const window: { playground: PagePlayground }

test.before(async () => {
  game = await startGame({ ZONE_COUNT: '1', WS_PLAYGROUND: 'true' }, undefined, 'ws')
})

test.after(async () => {
  await browser?.close()
  await game?.close()
  await harness.close()
})

async function openPlayground(): Promise<Page> {
  const page = await browser!.newPage({ viewport: { width: 1000, height: 700 } })
  page.on('pageerror', (err) => {
    throw err
  })
  await page.goto(`http://127.0.0.1:${game.handle.webSocketPort}/`)
  await page.waitForFunction(() => typeof window.playground === 'object')
  return page
}

function positionSeen(page: Page, playerId: number): Promise<{ x: number; y: number; hp: number } | null> {
  return page.evaluate((id) => window.playground.positionOf(id), playerId)
}

test('two browser players and a TCP player share a zone: a move and a chat of one are seen by the others', async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is required for this test and missing at ${CHROMIUM}: apt-get install -y chromium`)
  browser = await chromium.launch({ executablePath: CHROMIUM })

  // the TCP player keeps its view of the zone itself (GameClient's trackView); its chat we collect
  const tcp = await game.player('tcp')
  const tcpChat: string[] = []
  tcp.connection.onFrame((frame) => {
    if (frame.type === FrameType.CHAT_MESSAGE) tcpChat.push(decodeChatMessage(frame.payload).text)
  })

  const [pageA, pageB] = [await openPlayground(), await openPlayground()]
  const nameA = uniqueUsername('browserA')
  const nameB = uniqueUsername('browserB')
  const idA = await pageA.evaluate(([n, p]) => window.playground.login(n!, p!, true), [nameA, PASSWORD])
  const idB = await pageB.evaluate(([n, p]) => window.playground.login(n!, p!, true), [nameB, PASSWORD])
  assert.ok(idA > 0 && idB > 0 && idA !== idB)

  // B and the TCP player learn of A (joined), and the TCP player of B
  await eventually(async () => (await positionSeen(pageB, idA)) !== null, 5000, 'page B to see player A')
  await eventually(() => tcp.view.has(idA) && tcp.view.has(idB), 5000, 'the TCP client to see both browser players')

  const start = (await positionSeen(pageA, idA))!
  const target = { x: Math.min(start.x + 3, 90), y: Math.min(start.y + 2, 90) }
  await pageA.evaluate(([x, y]) => window.playground.moveTo(x!, y!), [target.x, target.y])
  const near = (p: { x: number; y: number } | null | undefined): boolean => p != null && Math.abs(p.x - target.x) < 0.1 && Math.abs(p.y - target.y) < 0.1
  await eventually(async () => near(await positionSeen(pageB, idA)), 5000, 'page B to see A\'s move')
  await eventually(() => near(tcp.view.get(idA)), 5000, 'the TCP client to see A\'s move')

  await pageA.evaluate((text) => window.playground.chat(text), 'hello from a browser')
  await eventually(async () => (await pageB.evaluate(() => window.playground.chatTexts())).includes('hello from a browser'), 5000, 'page B to hear A')
  await eventually(() => tcpChat.includes('hello from a browser'), 5000, 'the TCP client to hear A')
  assert.match(await pageB.textContent('#chat-log') ?? '', /hello from a browser/)

  // B walks up to A and hits it: A's page sees the hit on itself, the TCP player sees A's hit points drop
  const hpBefore = (await positionSeen(pageA, idA))!.hp
  await pageB.evaluate(([x, y]) => window.playground.moveTo(x!, y!), [target.x + 1, target.y])
  await pageB.evaluate((id) => window.playground.attack(id), idA)
  await eventually(async () => (await pageA.evaluate(() => window.playground.hitsSeen())).some((h) => h.attackerId === idB && h.targetId === idA), 5000, 'page A to see B\'s hit')
  await eventually(async () => (await positionSeen(pageA, idA))!.hp < hpBefore, 5000, 'page A to see its hit points drop')
  await eventually(() => (tcp.view.get(idA)?.hp ?? hpBefore) < hpBefore, 5000, 'the TCP client to see A\'s hit points drop')

  // the canvas shows the three players (a screenshot of a drawn zone is not blank)
  const dir = await harness.tempDir('gs-playground-')
  const shot = join(dir, 'playground.png')
  await pageB.screenshot({ path: shot })
  assert.ok((await stat(shot)).size > 5_000)
  assert.match(await pageB.textContent('#me') ?? '', /2 other player/)
})

test('a page served from another origin cannot open the WebSocket (403 before the upgrade)', async () => {
  const page = await browser!.newPage()
  // a data: page has the opaque origin "null", as a hostile site's page has its own
  const outcome = await page.evaluate((url) => new Promise<string>((resolve) => {
    const ws = new WebSocket(url)
    ws.onopen = () => resolve('open')
    ws.onerror = () => resolve('refused')
  }), `ws://127.0.0.1:${game.handle.webSocketPort}/ws`)
  assert.is(outcome, 'refused')
  await page.close()
})

test.run()
