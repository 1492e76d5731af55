/**
 * Declarative configuration: each variable is one row (name, default, parser, doc). A section is a
 * record of rows; `readSection` parses a section from an environment and throws a
 * `GS_ERR_CONFIG` naming the first bad variable. Every row is listed in `docs/CONFIG.md`
 * (a unit test checks the table is complete).
 */
import { GameServerError } from '../errors.js'
import { redactSecrets, redactValue } from '../redact.js'

export interface Variable<T> {
  /** Environment variable name, e.g. `GAME_PORT`. */
  readonly name: string
  /** Default when unset or empty; `undefined` means optional with no value. */
  readonly defaultValue: T | undefined
  readonly doc: string
  /** Parse a non-empty raw string, throwing `Error` with a reason on bad input. */
  parse(raw: string): T
}

export type Section = Record<string, Variable<unknown>>
export type SectionValues<S extends Section> = {
  readonly [K in keyof S]: S[K] extends Variable<infer T> ? T : never
}
/** A variable with no default may be absent: its value type includes `undefined`. */
type Maybe<T, D> = [D] extends [undefined] ? T | undefined : T

export type Env = Readonly<Record<string, string | undefined>>

export function readSection<S extends Section>(section: S, env: Env): SectionValues<S> {
  const out: Record<string, unknown> = {}
  for (const [key, variable] of Object.entries(section)) {
    const raw = env[variable.name]
    if (raw === undefined || raw.trim() === '') {
      out[key] = variable.defaultValue
      continue
    }
    try {
      out[key] = variable.parse(raw.trim())
    } catch (err) {
      // the value and the parser's reason may both quote a password (a malformed DATABASE_URL)
      const reason = err instanceof Error ? err.message : String(err)
      const shown = redactValue(variable.name, raw)
      throw new GameServerError('GS_ERR_CONFIG', `${variable.name}=${JSON.stringify(shown)} is invalid: ${variable.name === 'BALANCER_ADMIN_TOKEN' ? 'must be 16–256 characters without spaces' : redactSecrets(reason)}`, {
        variable: variable.name,
        value: shown,
      })
    }
  }
  return Object.freeze(out) as SectionValues<S>
}

function variable<T, D extends T | undefined>(name: string, defaultValue: D, doc: string, parse: (raw: string) => T): Variable<Maybe<T, D>> {
  return { name, defaultValue, doc, parse } as Variable<Maybe<T, D>>
}

export function integer<D extends number | undefined>(name: string, defaultValue: D, doc: string, range: { min?: number; max?: number } = {}): Variable<Maybe<number, D>> {
  return variable<number, D>(name, defaultValue, doc, (raw) => {
    if (!/^-?\d+$/.test(raw)) throw new Error('expected an integer')
    const value = Number(raw)
    if (range.min !== undefined && value < range.min) throw new Error(`must be ≥ ${range.min}`)
    if (range.max !== undefined && value > range.max) throw new Error(`must be ≤ ${range.max}`)
    return value
  })
}

export function decimal<D extends number | undefined>(name: string, defaultValue: D, doc: string, range: { min?: number; max?: number } = {}): Variable<Maybe<number, D>> {
  return variable<number, D>(name, defaultValue, doc, (raw) => {
    const value = Number(raw)
    if (!Number.isFinite(value)) throw new Error('expected a number')
    if (range.min !== undefined && value < range.min) throw new Error(`must be ≥ ${range.min}`)
    if (range.max !== undefined && value > range.max) throw new Error(`must be ≤ ${range.max}`)
    return value
  })
}

export function port<D extends number | undefined>(name: string, defaultValue: D, doc: string): Variable<Maybe<number, D>> {
  return integer(name, defaultValue, doc, { min: 0, max: 65535 })
}

export function text<D extends string | undefined>(name: string, defaultValue: D, doc: string, pattern?: RegExp): Variable<Maybe<string, D>> {
  return variable<string, D>(name, defaultValue, doc, (raw) => {
    if (pattern && !pattern.test(raw)) throw new Error(`must match ${pattern}`)
    return raw
  })
}

export function oneOf<const T extends string, D extends T | undefined>(name: string, values: readonly T[], defaultValue: D, doc: string): Variable<Maybe<T, D>> {
  return variable<T, D>(name, defaultValue, doc, (raw) => {
    if (!(values as readonly string[]).includes(raw)) throw new Error(`expected one of ${values.join(', ')}`)
    return raw as T
  })
}

export function boolean<D extends boolean | undefined>(name: string, defaultValue: D, doc: string): Variable<Maybe<boolean, D>> {
  return variable<boolean, D>(name, defaultValue, doc, (raw) => {
    const lower = raw.toLowerCase()
    if (['1', 'true', 'yes', 'on'].includes(lower)) return true
    if (['0', 'false', 'no', 'off'].includes(lower)) return false
    throw new Error('expected true or false')
  })
}

export function url<D extends string | undefined>(name: string, protocols: readonly string[], defaultValue: D, doc: string): Variable<Maybe<string, D>> {
  return variable<string, D>(name, defaultValue, doc, (raw) => parseUrl(raw, protocols).toString())
}

export function urlList(name: string, protocols: readonly string[], doc: string): Variable<readonly string[]> {
  return variable<readonly string[], readonly string[]>(name, [], doc, (raw) => {
    const items = raw.split(',').map((s) => s.trim()).filter(Boolean)
    if (items.length === 0) throw new Error('expected at least one URL')
    return Object.freeze(items.map((item) => parseUrl(item, protocols).toString()))
  })
}

export interface HostPort {
  readonly host: string
  readonly port: number
}

export function parseHostPort(raw: string): HostPort {
  const match = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(raw.trim())
  if (!match) throw new Error(`"${raw}" is not host:port`)
  const portNumber = Number(match[2])
  if (portNumber < 1 || portNumber > 65535) throw new Error(`port ${portNumber} out of range`)
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port: portNumber }
}

/** A game server as BACKENDS names it: its game port, and its WebSocket port when given. */
export interface BackendAddress extends HostPort {
  readonly webSocketPort?: number
}

/** `host:port`, or `host:port/wsPort` (the server's WebSocket listener, for the balancer's WebSocket front). */
export function parseBackendAddress(raw: string): BackendAddress {
  const [address = '', webSocket, extra] = raw.trim().split('/')
  if (extra !== undefined) throw new Error(`"${raw}" is not host:port or host:port/wsPort`)
  const hostPort = parseHostPort(address)
  if (webSocket === undefined) return hostPort
  if (!/^\d{1,5}$/.test(webSocket) || Number(webSocket) < 1 || Number(webSocket) > 65535) throw new Error(`"${raw}": WebSocket port "${webSocket}" out of range`)
  return { ...hostPort, webSocketPort: Number(webSocket) }
}

export function backendList(name: string, doc: string): Variable<readonly BackendAddress[]> {
  return variable<readonly BackendAddress[], readonly BackendAddress[]>(name, [], doc, (raw) => {
    const items = raw.split(',').map((s) => s.trim()).filter(Boolean)
    if (items.length === 0) throw new Error('expected at least one host:port')
    return Object.freeze(items.map(parseBackendAddress))
  })
}

function parseUrl(raw: string, protocols: readonly string[]): URL {
  let parsed: URL
  try {
    parsed = new URL(raw)
  } catch {
    throw new Error(`"${raw}" is not a URL`)
  }
  if (!protocols.includes(parsed.protocol)) throw new Error(`"${raw}" must use ${protocols.join(' or ')}`)
  return parsed
}
