/**
 * The limits and usage of this process's own control group — what a container's memory and CPU
 * budget really is — for cgroup v1 and v2. In a container with a 512 MiB limit, /proc/meminfo
 * still shows the host's memory and /proc/stat all of its CPUs; the detector's memory and CPU
 * thresholds read these figures instead whenever a limit is set (start.ts).
 *
 * Where the files are: /proc/self/cgroup gives this process's path in each hierarchy,
 * /proc/self/mountinfo where each hierarchy is mounted and which part of it (its root). Inside a
 * container the mount's root usually *is* the container's group, so the mount point itself holds
 * its files; on a host the path is appended to the mount point. Per controller: a v1 hierarchy
 * (`memory`, `cpu`, `cpuacct`) when mounted, else the v2 unified hierarchy.
 *
 * Memory usage is the working set (usage minus inactive page cache), as `docker stats` and the
 * kubelet count it: reclaimable cache is not memory pressure. The limit is the smallest one set on
 * the group or an ancestor visible in the mount (v1: `hierarchical_memory_limit`).
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

/** v1 "no limit" is a huge page-aligned number (2^63 − 4096 on 64-bit); anything this large is none. */
const UNLIMITED_BYTES = 2 ** 60

export interface CgroupFiles {
  readonly version: 1 | 2
  /** Directory of this process's group for memory figures, and for CPU figures (v1: cpu and cpuacct). */
  readonly memoryDir: string | undefined
  readonly cpuDir: string | undefined
  readonly cpuacctDir: string | undefined
  /** v2: the mount point of the unified hierarchy (ancestors up to it are checked for limits). */
  readonly unifiedMount?: string
}

export interface CgroupReading {
  /** Smallest memory limit on the group or its ancestors; undefined when none is set. */
  readonly memoryLimitBytes: number | undefined
  /** Working set: usage minus inactive file cache. */
  readonly memoryWorkingSetBytes: number | undefined
  /** CFS quota / period in cores; undefined when none is set. */
  readonly cpuQuotaCores: number | undefined
  /** CPU time of the whole group. */
  readonly cpuUsageSeconds: number | undefined
  /** CFS enforcement periods elapsed, and those in which the group was throttled. */
  readonly cpuPeriods: number | undefined
  readonly cpuThrottledPeriods: number | undefined
  readonly cpuThrottledSeconds: number | undefined
}

interface Mount {
  readonly root: string
  readonly mountPoint: string
  readonly fsType: string
  readonly superOptions: readonly string[]
}

export function parseMountinfo(text: string): Mount[] {
  const out: Mount[] = []
  for (const line of text.split('\n')) {
    if (!line.trim()) continue
    const dash = line.indexOf(' - ')
    if (dash < 0) continue
    const before = line.slice(0, dash).split(' ')
    const after = line.slice(dash + 3).split(' ')
    out.push({ root: unescape(before[3] ?? ''), mountPoint: unescape(before[4] ?? ''), fsType: after[0] ?? '', superOptions: (after[2] ?? '').split(',') })
  }
  return out
}

/** mountinfo escapes spaces, tabs, newlines and backslashes as octal. */
function unescape(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)))
}

/** `/proc/self/cgroup`: controller (or '' for v2) → path. */
function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of text.split('\n')) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line.trim())
    if (!match) continue
    const [, , controllers, path] = match
    if (controllers === '') out.set('', path!)
    for (const controller of controllers!.split(',')) if (controller) out.set(controller, path!)
  }
  return out
}

/** The directory of `path` (a group) under a mount of the hierarchy, or undefined if the mount does not contain it. */
function groupDir(mount: Mount, path: string): string | undefined {
  if (mount.root === '/') return join(mount.mountPoint, path)
  if (path === mount.root) return mount.mountPoint
  if (path.startsWith(`${mount.root}/`)) return join(mount.mountPoint, path.slice(mount.root.length))
  // A cgroup namespace (the group appears as `/`) or a mount of the group itself under another name.
  if (path === '/' || mount.root.startsWith('/..')) return mount.mountPoint
  return undefined
}

/** Where this process's group files are, from /proc/self/cgroup and /proc/self/mountinfo text. */
export function locateCgroup(procCgroup: string, mountinfo: string): CgroupFiles | undefined {
  const paths = parseProcCgroup(procCgroup)
  const mounts = parseMountinfo(mountinfo)
  const v1 = (controller: string): string | undefined => {
    const path = paths.get(controller)
    if (path === undefined) return undefined
    for (const mount of mounts) {
      if (mount.fsType === 'cgroup' && mount.superOptions.includes(controller)) {
        const dir = groupDir(mount, path)
        if (dir) return dir
      }
    }
    return undefined
  }
  const memoryV1 = v1('memory')
  const cpuV1 = v1('cpu')
  const cpuacctV1 = v1('cpuacct')
  if (memoryV1 || cpuV1) return { version: 1, memoryDir: memoryV1, cpuDir: cpuV1, cpuacctDir: cpuacctV1 ?? cpuV1 }
  const unifiedPath = paths.get('')
  const unified = mounts.find((m) => m.fsType === 'cgroup2')
  if (unifiedPath === undefined || !unified) return undefined
  const dir = groupDir(unified, unifiedPath)
  return dir ? { version: 2, memoryDir: dir, cpuDir: dir, cpuacctDir: dir, unifiedMount: unified.mountPoint } : undefined
}

/** `key value` lines (memory.stat, cpu.stat) as numbers. */
function parseKeyValues(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/)
    if (key && value !== undefined && /^-?\d+$/.test(value)) out.set(key, Number(value))
  }
  return out
}

type Reader = (path: string) => Promise<string>
const readText: Reader = (path) => readFile(path, 'utf8')

async function optional(read: Reader, path: string): Promise<string | undefined> {
  try {
    return await read(path)
  } catch {
    return undefined
  }
}

const number = (text: string | undefined): number | undefined => {
  const trimmed = text?.trim()
  return trimmed && /^\d+$/.test(trimmed) ? Number(trimmed) : undefined
}

/** One reading of the group's files. Missing files leave their figures undefined. */
export async function readCgroup(files: CgroupFiles, read: Reader = readText): Promise<CgroupReading> {
  return files.version === 1 ? readV1(files, read) : readV2(files, read)
}

async function readV1(files: CgroupFiles, read: Reader): Promise<CgroupReading> {
  let memoryLimitBytes: number | undefined
  let memoryWorkingSetBytes: number | undefined
  if (files.memoryDir) {
    const stat = parseKeyValues((await optional(read, join(files.memoryDir, 'memory.stat'))) ?? '')
    const limits = [number(await optional(read, join(files.memoryDir, 'memory.limit_in_bytes'))), stat.get('hierarchical_memory_limit')].filter((v): v is number => v !== undefined && v < UNLIMITED_BYTES)
    memoryLimitBytes = limits.length > 0 ? Math.min(...limits) : undefined
    const usage = number(await optional(read, join(files.memoryDir, 'memory.usage_in_bytes')))
    if (usage !== undefined) memoryWorkingSetBytes = Math.max(0, usage - (stat.get('total_inactive_file') ?? stat.get('inactive_file') ?? 0))
  }
  let cpuQuotaCores: number | undefined
  let cpuPeriods: number | undefined
  let cpuThrottledPeriods: number | undefined
  let cpuThrottledSeconds: number | undefined
  if (files.cpuDir) {
    const quota = Number((await optional(read, join(files.cpuDir, 'cpu.cfs_quota_us')))?.trim() ?? '-1')
    const period = Number((await optional(read, join(files.cpuDir, 'cpu.cfs_period_us')))?.trim() ?? '0')
    cpuQuotaCores = quota > 0 && period > 0 ? quota / period : undefined
    const stat = parseKeyValues((await optional(read, join(files.cpuDir, 'cpu.stat'))) ?? '')
    cpuPeriods = stat.get('nr_periods')
    cpuThrottledPeriods = stat.get('nr_throttled')
    const throttledNs = stat.get('throttled_time')
    cpuThrottledSeconds = throttledNs === undefined ? undefined : throttledNs / 1e9
  }
  const usageNs = files.cpuacctDir ? number(await optional(read, join(files.cpuacctDir, 'cpuacct.usage'))) : undefined
  return { memoryLimitBytes, memoryWorkingSetBytes, cpuQuotaCores, cpuUsageSeconds: usageNs === undefined ? undefined : usageNs / 1e9, cpuPeriods, cpuThrottledPeriods, cpuThrottledSeconds }
}

async function readV2(files: CgroupFiles, read: Reader): Promise<CgroupReading> {
  const dir = files.memoryDir!
  // The smallest memory.max from the group up to the hierarchy's mount point.
  const limits: number[] = []
  let cpuQuotaCores: number | undefined
  for (let current = dir; ; current = join(current, '..')) {
    const max = (await optional(read, join(current, 'memory.max')))?.trim()
    if (max && max !== 'max' && /^\d+$/.test(max)) limits.push(Number(max))
    const cpuMax = (await optional(read, join(current, 'cpu.max')))?.trim().split(/\s+/)
    if (cpuMax && cpuMax[0] !== 'max' && Number(cpuMax[0]) > 0 && Number(cpuMax[1]) > 0) {
      const cores = Number(cpuMax[0]) / Number(cpuMax[1])
      cpuQuotaCores = cpuQuotaCores === undefined ? cores : Math.min(cpuQuotaCores, cores)
    }
    if (!files.unifiedMount || current === files.unifiedMount || current === '/' || !current.startsWith(files.unifiedMount)) break
  }
  const stat = parseKeyValues((await optional(read, join(dir, 'memory.stat'))) ?? '')
  const current = number(await optional(read, join(dir, 'memory.current')))
  const cpu = parseKeyValues((await optional(read, join(dir, 'cpu.stat'))) ?? '')
  const usageUs = cpu.get('usage_usec')
  const throttledUs = cpu.get('throttled_usec')
  return {
    memoryLimitBytes: limits.length > 0 ? Math.min(...limits) : undefined,
    memoryWorkingSetBytes: current === undefined ? undefined : Math.max(0, current - (stat.get('inactive_file') ?? 0)),
    cpuQuotaCores,
    cpuUsageSeconds: usageUs === undefined ? undefined : usageUs / 1e6,
    cpuPeriods: cpu.get('nr_periods'),
    cpuThrottledPeriods: cpu.get('nr_throttled'),
    cpuThrottledSeconds: throttledUs === undefined ? undefined : throttledUs / 1e6,
  }
}

/** This process's group, or undefined where there is none to read (no /proc, not Linux). */
export async function detectCgroup(read: Reader = readText): Promise<CgroupFiles | undefined> {
  const [procCgroup, mountinfo] = await Promise.all([optional(read, '/proc/self/cgroup'), optional(read, '/proc/self/mountinfo')])
  if (procCgroup === undefined || mountinfo === undefined) return undefined
  return locateCgroup(procCgroup, mountinfo)
}

/** What one sample interval of the group amounts to (system.ts keeps the previous reading). */
export interface CgroupInterval {
  /** Working set / limit; undefined without a limit. */
  readonly memoryUsedRatio: number | undefined
  /** CPU time per wall second / quota cores (1 = the whole quota used); undefined without a quota. */
  readonly cpuQuotaUsedRatio: number | undefined
  /** Throttled periods / periods in the interval (0 when no period elapsed). */
  readonly cpuThrottledRatio: number | undefined
}

export function cgroupInterval(previous: CgroupReading | undefined, current: CgroupReading, intervalMs: number): CgroupInterval {
  const memoryUsedRatio =
    current.memoryLimitBytes !== undefined && current.memoryWorkingSetBytes !== undefined ? current.memoryWorkingSetBytes / current.memoryLimitBytes : undefined
  let cpuQuotaUsedRatio: number | undefined
  let cpuThrottledRatio: number | undefined
  if (previous && intervalMs > 0) {
    if (current.cpuQuotaCores !== undefined && current.cpuUsageSeconds !== undefined && previous.cpuUsageSeconds !== undefined) {
      const cores = Math.max(0, current.cpuUsageSeconds - previous.cpuUsageSeconds) / (intervalMs / 1000)
      cpuQuotaUsedRatio = cores / current.cpuQuotaCores
    }
    if (current.cpuQuotaCores !== undefined && current.cpuPeriods !== undefined && previous.cpuPeriods !== undefined && current.cpuThrottledPeriods !== undefined && previous.cpuThrottledPeriods !== undefined) {
      const periods = current.cpuPeriods - previous.cpuPeriods
      cpuThrottledRatio = periods > 0 ? Math.max(0, current.cpuThrottledPeriods - previous.cpuThrottledPeriods) / periods : 0
    }
  }
  return { memoryUsedRatio, cpuQuotaUsedRatio, cpuThrottledRatio }
}
