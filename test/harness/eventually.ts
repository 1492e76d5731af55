/**
 * The one polling helper of the tests: resolves once `predicate` holds (it may be async), checking
 * every `intervalMs`; rejects after `timeoutMs` with an error naming `what`. Prefer it to fixed
 * sleeps: it waits exactly as long as the condition needs, and fails with a reason.
 */
export async function eventually(predicate: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition', intervalMs = 5): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!(await predicate())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/**
 * `eventually` for a probe that yields a value: resolves with the first value that is not
 * `undefined`, checking every `intervalMs`. A probe that throws counts as "not yet" (a service
 * still starting); its last error is named when `timeoutMs` runs out.
 */
export async function eventuallyValue<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000, what = 'a value', intervalMs = 5): Promise<T> {
  const deadline = performance.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined) return value
    } catch (err) {
      last = err
    }
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? '' : ` (last error: ${String(last)})`}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
