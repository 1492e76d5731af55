// The game's store contracts (test/contracts/) over the PostgreSQL implementations, on one
// throwaway server shared by both suites.
import { suite } from 'uvu'
import { PostgresAccountStore } from '../../app/db/account-store.js'
import { loadConfig } from '../../app/config/index.js'
import { WriteBehindPlayerSink, writeBehindOptions } from '../../app/db/write-behind.js'
import { runAccountStoreContract } from '../contracts/account-store.contract.js'
import { runPlayerStateSinkContract } from '../contracts/player-state-sink.contract.js'
import { startDb } from './db-support.js'

// started once, awaited by each factory (no top-level await under uvu's CommonJS loader)
const ready = startDb()
ready.catch(() => {}) // surfaced by the first factory that awaits it

runAccountStoreContract('postgres', async () => new PostgresAccountStore((await ready).db))

runPlayerStateSinkContract('postgres write-behind', async () => {
  const f = await ready
  const sink = new WriteBehindPlayerSink(f.db, { ...writeBehindOptions(loadConfig({}).data), flushIntervalMs: 60_000, retryMaxMs: 100, closeDeadlineMs: 2000 })
  const accounts = new PostgresAccountStore(f.db, { pending: (id) => sink.pending(id) })
  return {
    accounts,
    sink,
    async close() {
      await sink.close()
      await accounts.close()
    },
  }
})

// runs after the suites above (uvu runs suites in registration order)
const cleanup = suite('db contracts: stop the throwaway PostgreSQL')
cleanup('close', async () => {
  await (await ready).harness.close()
})
cleanup.run()
