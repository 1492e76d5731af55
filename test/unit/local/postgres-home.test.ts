/**
 * Where the local appliance keeps its PostgreSQL cluster. As root, PostgreSQL runs as the
 * `postgres` user, which cannot reach a clone under /root (mode 0700): `npm start` there used to
 * stop with GS_ERR_APPLIANCE_START; now the cluster goes where that user can reach it.
 */
import { chmod, mkdir, mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { OUTSIDE_POSTGRES_ROOT, postgresHome } from '../../../app/local/appliance.js'
import { isRoot } from '../../../app/local/system.js'
import { isGameServerError } from '../../../app/errors.js'

const made: string[] = []
async function tree(parentMode: number): Promise<{ parent: string; dir: string }> {
  const parent = await mkdtemp(join(tmpdir(), 'gs-pg-home-'))
  made.push(parent)
  const dir = join(parent, 'clone', '.appliance')
  await mkdir(dir, { recursive: true, mode: 0o700 })
  await chmod(parent, parentMode)
  return { parent, dir }
}

test.after(async () => {
  for (const dir of made) await rm(dir, { recursive: true, force: true })
})

test('a reachable appliance directory keeps the cluster inside it (and becomes searchable, not readable, by others)', async () => {
  const { dir } = await tree(0o755)
  await chmod(join(dir, '..'), 0o755)
  assert.is(await postgresHome(dir, undefined), join(dir, 'postgres'))
  if (isRoot()) assert.is((await stat(dir)).mode & 0o077, 0o011)
})

test('as root, an appliance directory under a 0700 parent (a clone in /root) puts the cluster under /var/lib/game-appliance, one per directory, stable across runs', async () => {
  if (!isRoot()) return
  const a = await tree(0o700)
  const b = await tree(0o700)
  const homeA = await postgresHome(a.dir, undefined)
  assert.ok(homeA.startsWith(`${OUTSIDE_POSTGRES_ROOT}/`), homeA)
  assert.is(await postgresHome(a.dir, undefined), homeA, 'the same directory finds its cluster again')
  assert.is.not(await postgresHome(b.dir, undefined), homeA, 'another clone gets its own')
  assert.is((await stat(OUTSIDE_POSTGRES_ROOT)).mode & 0o777, 0o711)
  for (const home of [homeA, await postgresHome(b.dir, undefined)]) made.push(join(home, '..'))
})

test('as root, a configured directory the postgres user cannot reach is refused with the variable named', async () => {
  if (!isRoot()) return
  const { dir } = await tree(0o700)
  try {
    await postgresHome(dir, join(dir, 'pg'))
    assert.unreachable('accepted an unreachable APPLIANCE_POSTGRES_DIR')
  } catch (err) {
    assert.ok(isGameServerError(err) && err.code === 'GS_ERR_APPLIANCE_START', String(err))
    assert.ok((err as Error).message.includes('APPLIANCE_POSTGRES_DIR'))
  }
})

test.run()
