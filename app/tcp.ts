/**
 * TCP helpers every process kind shares (game server, balancer, telemetry endpoint, local tools):
 *
 *   listenError(err, …) .. what a failed listen() means for the operator
 *   canConnect(host, port) whether host:port accepts a TCP connection now
 */
import { connect } from 'node:net'
import { GameServerError } from './errors.js'

const PLACE_ERRORS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'is already in use',
  EADDRNOTAVAIL: 'is not an address of this host',
  EACCES: 'needs privileges this process does not have',
}

/**
 * A listen() that failed because of where it was told to listen — the port is taken (EADDRINUSE),
 * the address is not one of this host's (EADDRNOTAVAIL) or needs privileges (EACCES) — is a
 * configuration problem the operator fixes by changing a variable: GS_ERR_CONFIG naming it (exit 2).
 * Anything else passes through unchanged.
 */
export function listenError(err: unknown, variables: { readonly host: string; readonly port: string }, host: string, port: number): unknown {
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code !== 'string' || !(code in PLACE_ERRORS)) return err
  const variable = code === 'EADDRNOTAVAIL' ? variables.host : variables.port
  return new GameServerError('GS_ERR_CONFIG', `${variables.port}=${port}: ${host}:${port} ${PLACE_ERRORS[code]} (${code}); choose another ${variable}`, { variable, host, port, reason: code }, { cause: err })
}

/** Whether a TCP connect to host:port succeeds within `timeoutMs`. */
export function canConnect(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}
