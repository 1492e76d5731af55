/**
 * `npm run bench`: every benchmark, one after another. A benchmark is any `bench/*.bench.ts` (the
 * naming convention, see BENCHMARKS.md); helpers and references live elsewhere or under other
 * names. Each runs in its own process with its default (short) options; its output is streamed.
 *
 *   npm run bench                      all of them
 *   npm run bench -- hot-path db       only those whose file name contains one of the words
 */
import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { formatMachineFacts } from './machine.js'

const benchDir = fileURLToPath(new URL('.', import.meta.url))
const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'))
const benches = readdirSync(benchDir)
  .filter((name) => name.endsWith('.bench.ts'))
  .filter((name) => filters.length === 0 || filters.some((f) => name.includes(f)))
  .sort()

if (benches.length === 0) {
  console.error(`no bench/*.bench.ts matches ${filters.join(', ') || '(none found)'}`)
  process.exit(1)
}

console.log(formatMachineFacts())
console.log(`running ${benches.length} benchmark(s): ${benches.join(', ')}`)
const outcomes: { name: string; code: number | null; seconds: number }[] = []
for (const [i, name] of benches.entries()) {
  console.log(`\n=== [${i + 1}/${benches.length}] ${name} ===`)
  const started = performance.now()
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `${benchDir}${name}`], { stdio: 'inherit', cwd: fileURLToPath(new URL('..', import.meta.url)) })
    child.on('exit', (c, signal) => resolve(signal ? 128 : c))
    child.on('error', () => resolve(127))
  })
  const seconds = (performance.now() - started) / 1000
  outcomes.push({ name, code, seconds })
  console.log(`=== [${i + 1}/${benches.length}] ${name}: ${code === 0 ? 'ok' : `FAILED (exit ${code})`} in ${seconds.toFixed(0)} s ===`)
}

console.log('\nsummary:')
for (const o of outcomes) console.log(`  ${o.code === 0 ? 'ok    ' : 'FAILED'} ${o.name} (${o.seconds.toFixed(0)} s)`)
process.exit(outcomes.every((o) => o.code === 0) ? 0 : 1)
