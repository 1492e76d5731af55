/**
 * No dead code: knip (knip.jsonc says what counts as an entry) finds no unused file, export, type,
 * dependency or binary with the tests counted as users — an export nobody imports is dead — and,
 * in production mode, no production file that only tests reach (a test of dead code does not keep
 * it alive). The compiler's noUnusedLocals (tsconfig.json) covers what is left inside a module.
 */
import { execFile } from 'node:child_process'
import { dirname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { test } from 'uvu'
import * as assert from 'uvu/assert'

const ROOT = normalize(join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'))
const KNIP = join(ROOT, 'node_modules', 'knip', 'bin', 'knip.js')

async function knip(...args: string[]): Promise<{ code: number; report: string }> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [KNIP, '--no-progress', '--no-config-hints', ...args], { cwd: ROOT, timeout: 120_000 })
    return { code: 0, report: stdout }
  } catch (err) {
    const failed = err as { code?: number; stdout?: string; stderr?: string }
    return { code: typeof failed.code === 'number' ? failed.code : -1, report: `${failed.stdout ?? ''}${failed.stderr ?? ''}` }
  }
}

test('knip: nothing unused, the tests counted as users (entry files\' exports included)', async () => {
  const { code, report } = await knip('--include-entry-exports')
  assert.is(code, 0, `knip found dead code:\n${report}`)
})

test('knip --production: no production file that only tests reach', async () => {
  const { code, report } = await knip('--production', '--include', 'files')
  assert.is(code, 0, `production files only tests use:\n${report}`)
})

test.run()
