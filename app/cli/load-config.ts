/**
 * Configuration for a long-running command (`npm start`, `npm run balance`): a bad variable prints
 * `<command>: <message naming the variable>` and exits with 2 instead of a stack trace.
 */
import { loadConfig, type Config } from '../config/index.js'
import { isGameServerError } from '../errors.js'

export function loadConfigOrExit(command: string): Config {
  try {
    return loadConfig()
  } catch (err) {
    if (isGameServerError(err, 'GS_ERR_CONFIG')) {
      console.error(`${command}: ${err.message}`)
      process.exit(2)
    }
    throw err
  }
}
