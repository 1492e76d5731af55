/**
 * What "close leaves nothing running" means in a test: the process's active resources
 * (`process.getActiveResourcesInfo()`: sockets, servers, ref'd timers, child processes…) come back
 * to what they were before the thing under test was opened. A socket closes asynchronously, so the
 * check polls until `timeoutMs`. (Unref'd timers are not active resources: they never keep a
 * process alive, and are not counted.)
 */
import * as assert from 'uvu/assert'
import { eventually } from '../harness/eventually.js'

function countByType(): Map<string, number> {
  const counts = new Map<string, number>()
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1)
  return counts
}

/** Take the baseline now; `assertNone()` fails when more resources of some type are active than then. */
export function noNewHandles(): { assertNone(timeoutMs?: number): Promise<void> } {
  const before = countByType()
  const extra = (): string[] => [...countByType()].filter(([type, n]) => n > (before.get(type) ?? 0)).map(([type, n]) => `${type} ×${n - (before.get(type) ?? 0)}`)
  return {
    async assertNone(timeoutMs = 2000) {
      await eventually(() => extra().length === 0, timeoutMs, 'the closed resources to go away').catch(() => {})
      const left = extra()
      assert.equal(left, [], `resources still active after close: ${left.join(', ')}`)
    },
  }
}

/**
 * `noNewHandles()` once the process's resources stop changing (the same for 100 ms, at most 2 s):
 * in a test process shared with other files, a socket an earlier file closed can go away after the
 * baseline and hide a new one of the same type.
 */
export async function settledNoNewHandles(): Promise<ReturnType<typeof noNewHandles>> {
  const snapshot = () => [...countByType()].sort().join(',')
  let last = snapshot()
  let sameSince = Date.now()
  for (const start = Date.now(); Date.now() - sameSince < 100 && Date.now() - start < 2000; ) {
    await new Promise((resolve) => setTimeout(resolve, 10))
    const now = snapshot()
    if (now !== last) [last, sameSince] = [now, Date.now()]
  }
  return noNewHandles()
}
