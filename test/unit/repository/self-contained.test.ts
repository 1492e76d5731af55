/**
 * The repository explains itself: no comment, document or test cites a text its reader does not
 * have — the original brief and its sections, the teaching code it started from, or the numbers of
 * the issues work was tracked in. A reason is written out in place, or links to docs/.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'

const ROOT = normalize(join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'))
const SELF = 'test/unit/repository/self-contained.test.ts'

/** What a citation of an outside text looks like (built from pieces, so this file does not match itself). */
const CITATIONS: readonly RegExp[] = [
  new RegExp(['\\bS', 'PEC(\\.md|\\s*§)'].join('')),
  new RegExp(['\\bis', 'sue[ -]#?\\d+'].join(''), 'i'),
  new RegExp(['\\b(se', 'ed|row)\\s+\\d+\\.\\d+'].join(''), 'i'),
  new RegExp(['\\bthe se', "ed\\b|\\bse", "ed's\\b"].join(''), 'i'),
]

function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = dir === '.' ? e.name : `${dir}/${e.name}`
    if (e.isDirectory()) return ['node_modules', 'generated', '.git', '.tmp'].includes(e.name) || e.name.startsWith('.') ? [] : files(path)
    return /\.(ts|mjs|md|yaml|yml|json|jsonc|sh)$/.test(e.name) && e.name !== 'package-lock.json' && path !== SELF ? [path] : []
  })
}

test('the pattern catches what it is for', () => {
  const examples = ['see S' + 'PEC §3', 'S' + 'PEC.md says', 'as in is' + 'sue 15', 'Is' + 'sue #4', 'se' + 'ed 16.2', 'row 16.4', 'the se' + 'ed flush policy', "the se" + "ed's formula"]
  assert.equal(examples.filter((text) => !CITATIONS.some((c) => c.test(text))), [])
  const fine = ['createSeededRandom(7)', 'a random seed of 42', 'spec.containerPort', 'PROTOCOL.md §4.8', 'the issue with this']
  assert.equal(fine.filter((text) => CITATIONS.some((c) => c.test(text))), [])
})

test('no file cites the brief, the teaching code or an issue number', () => {
  const found: string[] = []
  const all = ['app', 'bench', 'dashboards', 'docs', 'infra', 'test', '.'].flatMap((dir) => (dir === '.' ? files('.').filter((f) => !f.includes('/')) : files(dir)))
  for (const file of all) {
    readFileSync(join(ROOT, file), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        for (const pattern of CITATIONS) {
          const m = pattern.exec(line)
          if (m) found.push(`${file}:${i + 1}: ${m[0]}`)
        }
      })
  }
  assert.ok(all.length > 300, `read ${all.length} files`)
  assert.equal(found, [], 'citations of texts this repository does not contain')
})

test.run()
