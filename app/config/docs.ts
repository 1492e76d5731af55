/** Renders docs/CONFIG.md from the defaults table (the test `config/docs` fails when it is stale). */
import { allVariables } from './index.js'

export function renderConfigDocs(): string {
  const lines = [
    '# Configuration',
    '',
    'Every process reads its configuration from environment variables once at start-up. A bad value',
    'stops the process with a `GS_ERR_CONFIG` error that names the variable. Empty means unset.',
    '',
    'Generated from `app/config/sections.ts` by `npm run docs:config`; do not edit by hand.',
    '',
  ]
  let section = ''
  for (const v of allVariables()) {
    if (v.section !== section) {
      section = v.section
      lines.push(`## ${section}`, '', '| variable | default | meaning |', '|---|---|---|')
    }
    lines.push(`| \`${v.name}\` | ${formatDefault(v.defaultValue)} | ${v.doc.replace(/\|/g, '\\|')} |`)
    const next = allVariables()[allVariables().indexOf(v) + 1]
    if (!next || next.section !== section) lines.push('')
  }
  return lines.join('\n')
}

function formatDefault(value: unknown): string {
  if (value === undefined) return '(unset)'
  if (Array.isArray(value)) return value.length === 0 ? '(unset)' : `\`${value.join(',')}\``
  return `\`${String(value)}\``
}
