/**
 * Host and runtime: each host's CPU, memory and disks (node_exporter, once per host); each app
 * process's container budget (cgroup memory and CPU against their limits, throttling); per process
 * CPU, memory, heap and the event loop.
 */
import { thresholdLines } from './alert-model.js'
import { panel, q, RATE_WINDOW, SELECT, target, type DashboardSpec } from './common.js'
import { METRICS as M } from './telemetry.js'

const P = SELECT.appProcesses

export const hostRuntime: DashboardSpec = {
  uid: 'gs-host-runtime',
  title: 'Game appliance — host and runtime',
  description: 'Real readings of the hosts (node_exporter), of each app container (cgroup) and of every Node process (CPU, memory, heap, event loop).',
  tags: ['game-appliance', 'host'],
  rows: [
    {
      title: 'Host',
      panels: [
        panel.timeseries('Host CPU', 'Busy fraction of all CPUs of each host (node_exporter).', 'percentunit', [target(q.threshold('host-cpu'), '{{instance}}')], { thresholds: thresholdLines('host-cpu') }),
        panel.timeseries('Host memory used', '1 − MemAvailable / MemTotal of each host (node_exporter).', 'percentunit', [target(q.threshold('host-memory'), '{{instance}}')], { thresholds: thresholdLines('host-memory') }),
        panel.timeseries('Disk used', 'Used fraction of the fullest filesystem of each host (node_exporter).', 'percentunit', [target(q.threshold('host-disk'), '{{instance}}')], {
          thresholds: thresholdLines('host-disk'),
        }),
        panel.stat('Host memory available', 'MemAvailable of the host (node_exporter).', 'bytes', [target(q.external('node_memory_MemAvailable_bytes', SELECT.node, [], 'max'), 'available')]),
      ],
    },
    {
      // Only containers with a limit report these (a process without a cgroup limit has no budget to compare with).
      title: 'Containers',
      panels: [
        panel.timeseries('Container memory of its limit', 'Working set / memory limit of each app container (cgroup).', 'percentunit', [target(q.max(M.containerMemoryUsed, P, ['service']), '{{service}}')], {
          thresholds: thresholdLines('container-memory'),
          sparse: true,
        }),
        panel.timeseries('Container CPU of its quota', 'CPU time per second / CPU quota of each app container (cgroup).', 'percentunit', [target(q.max(M.containerCpuUsed, P, ['service']), '{{service}}')], {
          thresholds: thresholdLines('container-cpu'),
          sparse: true,
        }),
        panel.timeseries('CPU throttling', 'Fraction of CPU periods in which each app container was throttled by its quota.', 'percentunit', [target(q.max(M.containerCpuThrottled, P, ['service']), '{{service}}')], {
          thresholds: thresholdLines('container-cpu-throttled'),
          sparse: true,
        }),
        panel.stat('Memory limit', 'Memory limit of each app container.', 'bytes', [target(q.min(M.containerMemoryLimit, P), 'limit')], { sparse: true }),
      ],
    },
    {
      title: 'Processes',
      panels: [
        panel.timeseries('Process CPU', 'CPU per wall second of each process (1 = one core).', 'percentunit', [target(q.max(M.processCpuUtilization, P, ['service']), '{{service}}')]),
        panel.timeseries('Resident memory', 'RSS of each process (process.memory.usage).', 'bytes', [target(q.max(M.processMemory, P, ['service']), '{{service}}')]),
        panel.timeseries('V8 heap', 'Heap used and allocated per process, summed over heap spaces (v8js.memory.heap.*).', 'bytes', [
          target(q.sum(M.heapUsed, P, ['service']), 'used {{service}}'),
          target(q.sum(M.heapLimit, P, ['service']), 'allocated {{service}}'),
        ]),
        panel.timeseries('GC pauses', 'Time per second spent in garbage-collection pauses, by type (v8js.gc.duration).', 's', [
          target(`sum by (service, v8js_gc_type) (rate(${M.gcDuration.name}_sum{${P}}[${RATE_WINDOW}]))`, '{{v8js_gc_type}} {{service}}'),
        ]),
        panel.timeseries('Event-loop delay', 'p99 and max event-loop delay per process over the sample interval (nodejs.eventloop.delay.*).', 's', [
          target(q.max(M.eventLoopDelayP99, P, ['service']), 'p99 {{service}}'),
          target(q.max(M.eventLoopDelayMax, P, ['service']), 'max {{service}}'),
        ], { thresholds: thresholdLines('event-loop-delay-p99') }),
        panel.timeseries('Event-loop utilisation', 'Fraction of time the event loop was busy.', 'percentunit', [target(q.max(M.eventLoopUtilization, P, ['service']), '{{service}}')]),
      ],
    },
  ],
}
