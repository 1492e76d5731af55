/**
 * Secrets out of messages and log lines. Two kinds reach text by accident: passwords inside URLs
 * (`postgres://user:password@host`, `redis://:password@host`, also when the URL is malformed, e.g.
 * an unescaped `@` or `/` in the password), and the values of variables that are secrets as a whole
 * (tokens). Config errors and every log line pass through here.
 */

/** `scheme://user:` then everything up to the last `@` before whitespace or a quote: the password. */
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@"']*:)[^\s"']*@/gi

/** Variables whose whole value is a secret: never echoed. */
const SECRET_VARIABLES: ReadonlySet<string> = new Set(['BALANCER_ADMIN_TOKEN'])

const REDACTED = '***'

export function redactSecrets(text: string): string {
  return text.includes('://') ? text.replace(URL_PASSWORD, `$1${REDACTED}@`) : text
}

/** A variable's value as it may appear in an error or a log line. */
export function redactValue(variable: string, value: string): string {
  return SECRET_VARIABLES.has(variable) ? REDACTED : redactSecrets(value)
}
