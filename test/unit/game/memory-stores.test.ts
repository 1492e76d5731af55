// The store contracts (test/contracts/) over the in-memory implementations of a standalone server.
import { runAccountStoreContract } from '../../contracts/account-store.contract.js'
import { runPlayerStateSinkContract } from '../../contracts/player-state-sink.contract.js'
import { runSessionStoreContract } from '../../contracts/session-store.contract.js'
import { runSharedGameStateContract } from '../../contracts/shared-game-state.contract.js'
import { MemoryAccountStore } from '../../../app/game/memory-account-store.js'
import { MemoryPlayerStateSink } from '../../../app/game/memory-player-sink.js'
import { MemorySessionStore } from '../../../app/game/memory-session-store.js'
import { MemorySharedState } from '../../../app/game/memory-shared-state.js'

runAccountStoreContract('memory', async () => new MemoryAccountStore())
runSessionStoreContract('memory', async ({ ttlSeconds }) => new MemorySessionStore({ ttlSeconds }))
runPlayerStateSinkContract('memory', async () => {
  const accounts = new MemoryAccountStore()
  const sink = new MemoryPlayerStateSink(accounts)
  return { accounts, sink, close: async () => { await sink.close(); await accounts.close() } }
})
runSharedGameStateContract('memory', async ({ chatHistory }) => new MemorySharedState(chatHistory))
