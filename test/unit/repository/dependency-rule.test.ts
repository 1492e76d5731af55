/**
 * The dependency rule of docs/ARCHITECTURE.md, enforced: every import of every module under app/,
 * dashboards/, infra/, bench/ and test/ is read (./imports.ts) and checked against the table in
 * "## The dependency rule" — the table is the rule, so the document cannot drift from the code.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { importsOf } from './imports.js'

const ROOT = normalize(join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'))
const SOURCE_DIRS = ['app', 'dashboards', 'infra', 'bench', 'test']

interface Rule {
  readonly values: readonly string[]
  readonly types: readonly string[]
}

/** The table under "## The dependency rule": folder key → the keys it may import (values, and types only). */
function readRules(): Map<string, Rule> {
  const doc = readFileSync(join(ROOT, 'docs', 'ARCHITECTURE.md'), 'utf8')
  const section = doc.split('\n## The dependency rule\n')[1]?.split('\n## ')[0]
  if (section === undefined) throw new Error('docs/ARCHITECTURE.md has no "## The dependency rule" section')
  const rules = new Map<string, Rule>()
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim())
    const key = /^`([^`]+)`$/.exec(cells[1] ?? '')?.[1]
    if (key === undefined || cells.length < 4) continue
    const values: string[] = []
    const types: string[] = []
    for (const part of cells[2]!.split(';').map((p) => p.trim())) {
      const names = [...part.matchAll(/`([^`]+)`/g)].map((m) => m[1]!)
      ;(part.startsWith('types of') ? types : values).push(...names)
    }
    rules.set(key, { values, types })
  }
  return rules
}

/** The rule key of a repository path: `app/main.ts`, `app/<folder>`, `app/*.ts`, `test/<folder>`, or the top folder. */
function keyOf(path: string): string {
  const parts = path.split('/')
  if (path === 'app/main.ts') return path
  if (parts[0] === 'app') return parts.length === 2 ? 'app/*.ts' : `app/${parts[1]}`
  if (parts[0] === 'test') return `test/${parts[1]}`
  return parts[0]!
}

function allows(allowed: readonly string[], target: string): boolean {
  return allowed.some((key) => key === target || (key === 'app/*' && target.startsWith('app/')))
}

function sourceFiles(dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'generated') out.push(...sourceFiles(path))
    } else if (/\.(ts|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(path)
  }
  return out
}

/** A relative specifier as a repository path (`./x.js` is the TypeScript source `./x.ts`). */
function resolve(from: string, specifier: string): string {
  const path = relative(ROOT, join(ROOT, dirname(from), specifier)).split('\\').join('/')
  const ts = path.replace(/\.js$/, '.ts')
  return existsSync(join(ROOT, ts)) ? ts : path
}

test('the import reader sees every kind of import and nothing in comments', () => {
  const source = [
    "import { a, type B } from './a.js'",
    'import type { C } from "./c.js"',
    "import D, { e } from '../d.js'",
    "import * as f from './f.js'",
    "export { g } from './g.js'",
    "export type { H } from './h.js'",
    "export * from './i.js'",
    "import './side-effect.js'",
    'import {',
    '  j,',
    '  k,',
    "} from './multi-line.js'",
    "const l = await import('./dynamic.js')",
    "const url = `http://example/${await import('./in-a-template.js')}`",
    "// import { no } from './commented.js'",
    "/* import { no } from './block-commented.js' */",
    "const text = 'import { no } from \"./in-a-string.js\"'",
    "const pattern = /['\"]/ // a quote in a regular expression does not hide what follows",
    "export const m = 1",
    "import { n } from 'package'",
  ].join('\n')
  assert.equal(importsOf(source), [
    { specifier: './a.js', typeOnly: false },
    { specifier: './c.js', typeOnly: true },
    { specifier: '../d.js', typeOnly: false },
    { specifier: './f.js', typeOnly: false },
    { specifier: './g.js', typeOnly: false },
    { specifier: './h.js', typeOnly: true },
    { specifier: './i.js', typeOnly: false },
    { specifier: './multi-line.js', typeOnly: false },
    { specifier: 'package', typeOnly: false },
    { specifier: './side-effect.js', typeOnly: false },
    { specifier: './dynamic.js', typeOnly: false },
  ])
})

test('every folder has a rule, and every rule names folders that exist', () => {
  const rules = readRules()
  const keys = new Set(SOURCE_DIRS.flatMap(sourceFiles).map(keyOf))
  const missing = [...keys].filter((key) => !rules.has(key))
  assert.equal(missing, [], 'folders without a row in the dependency rule')
  const named = [...rules.values()].flatMap((r) => [...r.values, ...r.types]).filter((key) => key !== 'app/*')
  assert.equal([...new Set(named)].filter((key) => !rules.has(key)), [], 'imports allowed from folders that have no row')
})

test('every import follows the dependency rule of docs/ARCHITECTURE.md', () => {
  const rules = readRules()
  const violations: string[] = []
  let checked = 0
  for (const file of SOURCE_DIRS.flatMap(sourceFiles)) {
    const from = keyOf(file)
    const rule = rules.get(from)
    for (const edge of importsOf(readFileSync(join(ROOT, file), 'utf8'))) {
      if (!edge.specifier.startsWith('.')) continue
      const target = resolve(file, edge.specifier)
      if (!existsSync(join(ROOT, target))) {
        violations.push(`${file} imports ${edge.specifier}, which does not exist`)
        continue
      }
      checked++
      const to = keyOf(target)
      if (to === from || rule === undefined) continue
      if (allows(rule.values, to) || (edge.typeOnly && allows(rule.types, to))) continue
      violations.push(`${file} → ${target} (${from} may not import ${edge.typeOnly ? 'types of ' : ''}${to})`)
    }
  }
  assert.ok(checked > 1000, `read ${checked} imports`)
  assert.equal(violations, [], 'imports the dependency rule does not allow')
})

test.run()
