/**
 * Waiting with a time limit, the one way every shutdown step and readiness probe does it: the timer
 * is unref'd (it never keeps the process alive) and cleared as soon as the work settles.
 */

/**
 * Resolves true once `work` resolves, or false once `ms` passed first. `work` keeps running; the
 * caller decides what a late finish means, and a rejection after the deadline is ignored (nobody
 * waits for it any more). A rejection in time rejects.
 */
export async function withDeadline(work: PromiseLike<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const finished = Promise.resolve(work).then(() => true as const)
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms))
    timer.unref()
  })
  try {
    return await Promise.race([finished, timeout])
  } finally {
    clearTimeout(timer)
    finished.catch(() => {})
  }
}
