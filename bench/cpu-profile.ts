/**
 * Where a process's CPU went, from a V8 `.cpuprofile` (node --cpu-prof): self time by function and
 * by module (our files by path, packages by name, Node's internals and native code apart), and
 * inclusive time by function (it and everything it called), as shares of the profile's busy time
 * (idle and the profiler's own program node excluded).
 *
 *   npx tsx bench/cpu-profile.ts FILE.cpuprofile [--top 25] [--focus name1,name2]
 *
 * --focus also prints the inclusive share of the functions with those names (e.g. World.broadcast).
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  readonly children?: readonly number[]
}
interface Profile {
  readonly nodes: readonly ProfileNode[]
  readonly samples: readonly number[]
  readonly timeDeltas: readonly number[]
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' }, focus: { type: 'string', default: '' } } })
if (positionals.length !== 1) throw new Error('usage: bench/cpu-profile.ts FILE.cpuprofile [--top 25] [--focus name,…]')
const profile = JSON.parse(readFileSync(positionals[0]!, 'utf8')) as Profile
const top = Number(values.top)

const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const parent = new Map<number, number>()
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)

/** Self time per node in µs (each sample's delta is the time since the previous sample). */
const selfUs = new Map<number, number>()
for (let i = 0; i < profile.samples.length; i++) selfUs.set(profile.samples[i]!, (selfUs.get(profile.samples[i]!) ?? 0) + (profile.timeDeltas[i] ?? 0))

const NOT_BUSY = new Set(['(idle)', '(program)'])
let totalUs = 0
let busyUs = 0
for (const [id, us] of selfUs) {
  totalUs += us
  if (!NOT_BUSY.has(byId.get(id)!.callFrame.functionName)) busyUs += us
}

function moduleOf(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native)'
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (pkg) return pkg[1]!
  if (url.startsWith('node:')) return 'node:internal'
  const ours = /\/((?:app|bench)\/.*)$/.exec(url)
  return ours ? ours[1]!.replace(/\.js$/, '.ts') : url
}
const label = (n: ProfileNode): string => `${n.callFrame.functionName || '(anonymous)'} ${moduleOf(n.callFrame.url, n.callFrame.functionName)}:${n.callFrame.lineNumber + 1}`

const selfByFunction = new Map<string, number>()
const selfByModule = new Map<string, number>()
for (const [id, us] of selfUs) {
  const node = byId.get(id)!
  if (NOT_BUSY.has(node.callFrame.functionName)) continue
  selfByFunction.set(label(node), (selfByFunction.get(label(node)) ?? 0) + us)
  const mod = moduleOf(node.callFrame.url, node.callFrame.functionName)
  selfByModule.set(mod, (selfByModule.get(mod) ?? 0) + us)
}

const share = (us: number): string => `${((100 * us) / busyUs).toFixed(1).padStart(5)} %`
console.log(`${positionals[0]}: ${(totalUs / 1e6).toFixed(2)} s profiled, busy ${(busyUs / 1e6).toFixed(2)} s (${((100 * busyUs) / totalUs).toFixed(0)} %); shares below are of busy time`)
console.log('\nself time by module:')
for (const [mod, us] of [...selfByModule].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${share(us)}  ${mod}`)
console.log('\nself time by function:')
for (const [fn, us] of [...selfByFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${share(us)}  ${fn}`)

// Inclusive time by function: a sample counts once for each distinct function on its stack.
const inclusiveByFunction = new Map<string, number>()
for (const [id, us] of selfUs) {
  if (NOT_BUSY.has(byId.get(id)!.callFrame.functionName)) continue
  const seen = new Set<string>()
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const node = byId.get(at)!
    if (node.callFrame.functionName === '(root)') continue
    const key = label(node)
    if (seen.has(key)) continue
    seen.add(key)
    inclusiveByFunction.set(key, (inclusiveByFunction.get(key) ?? 0) + us)
  }
}
console.log('\ninclusive time by function (it and everything it called):')
for (const [fn, us] of [...inclusiveByFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${share(us)}  ${fn}`)

const focus = values.focus.split(',').map((f) => f.trim()).filter((f) => f !== '')
if (focus.length > 0) {
  // Inclusive: a sample counts once for each focused function on its stack.
  const inclusive = new Map<string, number>(focus.map((f) => [f, 0]))
  for (const [id, us] of selfUs) {
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = byId.get(at)!.callFrame.functionName
      if (inclusive.has(name) && !seen.has(name)) {
        seen.add(name)
        inclusive.set(name, inclusive.get(name)! + us)
      }
    }
  }
  console.log('\ninclusive time (the function and everything it called):')
  for (const [name, us] of inclusive) console.log(`  ${share(us)}  ${name}`)
}
