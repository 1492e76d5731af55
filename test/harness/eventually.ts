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
