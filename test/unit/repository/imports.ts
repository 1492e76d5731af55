/**
 * The imports of a TypeScript or JavaScript module, read from its text: static `import … from`,
 * `export … from`, side-effect `import '…'` and dynamic `import('…')`. `typeOnly` is true for
 * `import type` / `export type`, which load nothing at run time (with verbatimModuleSyntax, an
 * `import { type X }` still loads the module, so it counts as a value import). Comments are
 * ignored, and so is text inside strings and templates (`'import x from …'` in a test fixture).
 */

export interface ImportEdge {
  readonly specifier: string
  readonly typeOnly: boolean
}

/**
 * The code without comments, every quote string replaced by `'#n'` (its text in `strings[n]`) and
 * every template by an empty one, so the patterns below match only code.
 */
function tokenize(source: string): { code: string; strings: string[] } {
  const strings: string[] = []
  let code = ''
  let i = 0
  while (i < source.length) {
    const c = source[i]!
    const next = source[i + 1]
    if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2)
      i = end < 0 ? source.length : end + 2
      continue
    }
    if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i)
      i = end < 0 ? source.length : end
      continue
    }
    if (c === "'" || c === '"' || c === '`') {
      // a quote string ends at its line's end at the latest, so a quote inside a regular
      // expression literal cannot swallow the lines after it
      let j = i + 1
      while (j < source.length && source[j] !== c && (c === '`' || source[j] !== '\n')) j += source[j] === '\\' ? 2 : 1
      if (c === '`') code += '``'
      else {
        code += `'#${strings.length}'`
        strings.push(source.slice(i + 1, j))
      }
      i = j + 1
      continue
    }
    code += c
    i++
  }
  return { code, strings }
}

const CLAUSE = String.raw`(?:\{[^}]*\}|\*(?:\s+as\s+[\w$]+)?|[\w$]+(?:\s*,\s*(?:\{[^}]*\}|\*\s+as\s+[\w$]+))?)`
const STATIC = new RegExp(String.raw`(?:^|[;\n])\s*(import|export)\s+(type\s+)?${CLAUSE}\s*from\s*'#(\d+)'`, 'g')
const SIDE_EFFECT = /(?:^|[;\n])\s*import\s*'#(\d+)'/g
const DYNAMIC = /\bimport\(\s*'#(\d+)'\s*\)/g

export function importsOf(source: string): ImportEdge[] {
  const { code, strings } = tokenize(source)
  const edges: ImportEdge[] = []
  for (const m of code.matchAll(STATIC)) edges.push({ specifier: strings[Number(m[3])]!, typeOnly: m[2] !== undefined })
  for (const m of code.matchAll(SIDE_EFFECT)) edges.push({ specifier: strings[Number(m[1])]!, typeOnly: false })
  for (const m of code.matchAll(DYNAMIC)) edges.push({ specifier: strings[Number(m[1])]!, typeOnly: false })
  return edges
}
