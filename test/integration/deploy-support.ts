/** Process-tree readings from /proc for the appliance tests ("nothing left behind"). */
import { readFileSync, readdirSync } from 'node:fs'

interface ProcEntry {
  readonly ppid: number
  readonly state: string
}

function readProc(): Map<number, ProcEntry> {
  const out = new Map<number, ProcEntry>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      out.set(Number(entry), { state: fields[0]!, ppid: Number(fields[1]) })
    } catch {
      /* exited meanwhile */
    }
  }
  return out
}

/** `roots` and all their descendants. */
export function processTree(roots: readonly number[]): number[] {
  const proc = readProc()
  const out: number[] = []
  const visit = (pid: number) => {
    out.push(pid)
    for (const [child, entry] of proc) if (entry.ppid === pid) visit(child)
  }
  for (const pid of roots) visit(pid)
  return out
}

/** Live (not zombie) descendants of this process. */
export function liveDescendants(): number[] {
  const proc = readProc()
  return processTree([process.pid]).filter((pid) => pid !== process.pid && proc.get(pid) !== undefined && proc.get(pid)!.state !== 'Z')
}

/** `pid cmdline` of each process among `pids` that is still running (zombies count as gone). */
export function stillRunning(pids: Iterable<number>): string[] {
  const out: string[] = []
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') continue
      out.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim()}`)
    } catch {
      /* gone */
    }
  }
  return out
}
