/**
 * One defaults table: a setting's default lives in the config table (app/config, docs/CONFIG.md)
 * and nowhere else. Parts take config-backed settings as required options mapped once from the
 * config (`writeBehindOptions`, `cacheOptionsFrom`, `sessionOptionsFromConfig`…); a default that
 * is not a setting is a named, documented constant. So no `options.x ?? <number>` (nor `process.env.X ?? <number>`) in app/, where a
 * literal would silently repeat (and drift from) the table. `?? 0` stays allowed: "absent means none".
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'

const ROOT = normalize(join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'))

function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(`${dir}/${e.name}`) : e.name.endsWith('.ts') ? [`${dir}/${e.name}`] : []))
}

test('no option default in app/ is a numeric literal', () => {
  // `options.x ?? 5000`, and `process.env.X ?? 7777` (a setting read around the config table)
  const literal = /\b(?:options\??\.[\w$]+|process\.env\.[A-Z_]+)\s*\?\?\s*(-?(?:[1-9][\d_]*|0?\.\d+)(?:e\d+)?)\b/g
  const found = files('app').flatMap((file) =>
    readFileSync(join(ROOT, file), 'utf8')
      .split('\n')
      .flatMap((line, i) => [...line.matchAll(literal)].map((m) => `${file}:${i + 1}: ${m[0]}`)),
  )
  assert.equal(found, [], 'defaults written as literals (take them from the config table, or name them)')
})

test.run()
