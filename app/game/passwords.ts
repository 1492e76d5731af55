/**
 * Password hashing with scrypt (node:crypto), async so a login never blocks the event loop.
 *
 * Stored format (self-describing, so parameters can change without breaking old hashes):
 *   scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>
 * Verification recomputes the hash with the stored parameters and compares in constant time.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto'

export interface ScryptParameters {
  /** CPU/memory cost (power of two). */
  readonly cost: number
  readonly blockSize: number
  readonly parallelization: number
  readonly saltBytes: number
  readonly keyBytes: number
}

/** N = 2^14, r = 8, p = 1: about 16 MiB and a few tens of ms per hash. */
export const DEFAULT_SCRYPT: ScryptParameters = Object.freeze({ cost: 16384, blockSize: 8, parallelization: 1, saltBytes: 16, keyBytes: 32 })

function derive(password: string, salt: Buffer, keyBytes: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyBytes, options, (err, key) => (err ? reject(err) : resolve(key)))
  })
}

function scryptOptions(cost: number, blockSize: number, parallelization: number): ScryptOptions {
  // maxmem must cover 128 * N * r (plus slack), or node refuses large costs.
  return { N: cost, r: blockSize, p: parallelization, maxmem: 256 * cost * blockSize + 1024 * 1024 }
}

export async function hashPassword(password: string, params: ScryptParameters = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(params.saltBytes)
  const key = await derive(password, salt, params.keyBytes, scryptOptions(params.cost, params.blockSize, params.parallelization))
  return ['scrypt', params.cost, params.blockSize, params.parallelization, salt.toString('base64'), key.toString('base64')].join('$')
}

/** True when `password` matches `stored`; false for a wrong password or a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false
  const cost = Number(parts[1])
  const blockSize = Number(parts[2])
  const parallelization = Number(parts[3])
  if (![cost, blockSize, parallelization].every((n) => Number.isInteger(n) && n > 0) || cost > 1 << 20) return false
  const salt = Buffer.from(parts[4]!, 'base64')
  const expected = Buffer.from(parts[5]!, 'base64')
  if (expected.length === 0) return false
  const actual = await derive(password, salt, expected.length, scryptOptions(cost, blockSize, parallelization))
  return timingSafeEqual(actual, expected)
}
