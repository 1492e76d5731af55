// Reading this process's cgroup: where its files are (v1 and v2, on a host and inside a container,
// with and without a cgroup namespace), the limits (none, own, an ancestor's), the working set, the
// CPU quota, usage and throttling, and what one sample interval makes of two readings.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { cgroupInterval, locateCgroup, parseMountinfo, readCgroup, type CgroupReading } from '../../../app/telemetry/cgroup.js'

const mount = (id: number, root: string, point: string, fs: string, opts: string) => `${id} 1 0:${id} ${root} ${point} rw,nosuid - ${fs} ${fs} rw,${opts}`

const V1_MOUNTS = [
  mount(30, '/', '/sys/fs/cgroup/memory', 'cgroup', 'memory'),
  mount(31, '/', '/sys/fs/cgroup/cpu,cpuacct', 'cgroup', 'cpu,cpuacct'),
  mount(32, '/', '/sys/fs/cgroup/unified', 'cgroup2', 'nsdelegate'),
].join('\n')

test('v1 on a host: the group path is appended to each hierarchy\'s mount point', () => {
  const files = locateCgroup('4:memory:/jobs/a\n2:cpu,cpuacct:/jobs/a\n0::/\n', V1_MOUNTS)
  assert.equal(files, { version: 1, memoryDir: '/sys/fs/cgroup/memory/jobs/a', cpuDir: '/sys/fs/cgroup/cpu,cpuacct/jobs/a', cpuacctDir: '/sys/fs/cgroup/cpu,cpuacct/jobs/a' })
})

test('v1 in a container: the mount\'s root is the container\'s group, so its files are at the mount point', () => {
  const id = '/libpod_parent/libpod-0123abc'
  const mounts = [mount(40, id, '/sys/fs/cgroup/memory', 'cgroup', 'memory'), mount(41, id, '/sys/fs/cgroup/cpu', 'cgroup', 'cpu'), mount(42, id, '/sys/fs/cgroup/cpuacct', 'cgroup', 'cpuacct')].join('\n')
  const files = locateCgroup(`4:memory:${id}\n3:cpu:${id}\n2:cpuacct:${id}\n`, mounts)
  assert.equal(files, { version: 1, memoryDir: '/sys/fs/cgroup/memory', cpuDir: '/sys/fs/cgroup/cpu', cpuacctDir: '/sys/fs/cgroup/cpuacct' })
})

test('v2: with a cgroup namespace (the group is `/`) and on a host (a path under the mount)', () => {
  const unified = mount(50, '/', '/sys/fs/cgroup', 'cgroup2', 'nsdelegate')
  assert.equal(locateCgroup('0::/\n', unified), { version: 2, memoryDir: '/sys/fs/cgroup/', cpuDir: '/sys/fs/cgroup/', cpuacctDir: '/sys/fs/cgroup/', unifiedMount: '/sys/fs/cgroup' })
  assert.equal(locateCgroup('0::/system.slice/app.service\n', unified)?.memoryDir, '/sys/fs/cgroup/system.slice/app.service')
  assert.is(locateCgroup('0::/\n', ''), undefined, 'no cgroup filesystem mounted: nothing to read')
  assert.equal(parseMountinfo('1 0 0:1 /a\\040b /mnt\\040x rw - ext4 /dev/x rw')[0]!.mountPoint, '/mnt x')
})

function files(contents: Record<string, string>): (path: string) => Promise<string> {
  return async (path) => {
    const found = contents[path]
    if (found === undefined) throw Object.assign(new Error(`ENOENT ${path}`), { code: 'ENOENT' })
    return found
  }
}

test('v1 reading: the smaller of own and hierarchical limit, working set without inactive cache, quota and throttling', async () => {
  const dir = { version: 1 as const, memoryDir: '/m', cpuDir: '/c', cpuacctDir: '/a' }
  const reading = await readCgroup(
    dir,
    files({
      '/m/memory.limit_in_bytes': '9223372036854771712\n',
      '/m/memory.stat': 'cache 100\nhierarchical_memory_limit 536870912\ntotal_inactive_file 20000000\n',
      '/m/memory.usage_in_bytes': '120000000\n',
      '/c/cpu.cfs_quota_us': '150000\n',
      '/c/cpu.cfs_period_us': '100000\n',
      '/c/cpu.stat': 'nr_periods 200\nnr_throttled 50\nthrottled_time 2500000000\n',
      '/a/cpuacct.usage': '30000000000\n',
    }),
  )
  assert.equal(reading, {
    memoryLimitBytes: 536870912,
    memoryWorkingSetBytes: 100000000,
    cpuQuotaCores: 1.5,
    cpuUsageSeconds: 30,
    cpuPeriods: 200,
    cpuThrottledPeriods: 50,
    cpuThrottledSeconds: 2.5,
  })
  const unlimited = await readCgroup(dir, files({ '/m/memory.limit_in_bytes': '9223372036854771712', '/m/memory.usage_in_bytes': '5', '/c/cpu.cfs_quota_us': '-1', '/c/cpu.cfs_period_us': '100000' }))
  assert.is(unlimited.memoryLimitBytes, undefined, 'the v1 "unlimited" value is no limit')
  assert.is(unlimited.cpuQuotaCores, undefined, 'quota -1 is no quota')
})

test('v2 reading: an ancestor\'s memory.max and cpu.max count; "max" is none', async () => {
  const dir = { version: 2 as const, memoryDir: '/sys/fs/cgroup/pod/ctr', cpuDir: '/sys/fs/cgroup/pod/ctr', cpuacctDir: '/sys/fs/cgroup/pod/ctr', unifiedMount: '/sys/fs/cgroup' }
  const reading = await readCgroup(
    dir,
    files({
      '/sys/fs/cgroup/pod/ctr/memory.max': 'max\n',
      '/sys/fs/cgroup/pod/memory.max': '268435456\n',
      '/sys/fs/cgroup/pod/ctr/cpu.max': 'max 100000\n',
      '/sys/fs/cgroup/pod/cpu.max': '50000 100000\n',
      '/sys/fs/cgroup/pod/ctr/memory.current': '70000000\n',
      '/sys/fs/cgroup/pod/ctr/memory.stat': 'anon 1\ninactive_file 10000000\n',
      '/sys/fs/cgroup/pod/ctr/cpu.stat': 'usage_usec 4000000\nnr_periods 10\nnr_throttled 4\nthrottled_usec 300000\n',
    }),
  )
  assert.equal(reading, {
    memoryLimitBytes: 268435456,
    memoryWorkingSetBytes: 60000000,
    cpuQuotaCores: 0.5,
    cpuUsageSeconds: 4,
    cpuPeriods: 10,
    cpuThrottledPeriods: 4,
    cpuThrottledSeconds: 0.3,
  })
})

test('one interval: memory of its limit, CPU of its quota, throttled share of periods', () => {
  const before: CgroupReading = { memoryLimitBytes: 1000, memoryWorkingSetBytes: 400, cpuQuotaCores: 2, cpuUsageSeconds: 10, cpuPeriods: 100, cpuThrottledPeriods: 10, cpuThrottledSeconds: 1 }
  const after: CgroupReading = { ...before, memoryWorkingSetBytes: 900, cpuUsageSeconds: 13, cpuPeriods: 120, cpuThrottledPeriods: 15 }
  assert.equal(cgroupInterval(before, after, 2000), { memoryUsedRatio: 0.9, cpuQuotaUsedRatio: 0.75, cpuThrottledRatio: 0.25 })
  assert.equal(cgroupInterval(undefined, after, 2000), { memoryUsedRatio: 0.9, cpuQuotaUsedRatio: undefined, cpuThrottledRatio: undefined }, 'rates need two readings')
  const noLimits = { ...after, memoryLimitBytes: undefined, cpuQuotaCores: undefined }
  assert.equal(cgroupInterval(before, noLimits, 2000), { memoryUsedRatio: undefined, cpuQuotaUsedRatio: undefined, cpuThrottledRatio: undefined }, 'no budget, no ratio')
})

test.run()
