/** Host and runtime: host CPU, memory, disk; per process CPU, memory, heap and the event loop. */
import { thresholdLines } from './alert-model.js'
import { panel, q, RATE_WINDOW, SELECT, target, type DashboardSpec } from './common.js'
import { METRICS as M } from './telemetry.js'

const P = SELECT.appProcesses

export const hostRuntime: DashboardSpec = {
  uid: 'gs-host-runtime',
  title: 'Game appliance — host and runtime',
  description: 'Real readings of the hosts (/proc, statfs) and of every Node process (CPU, memory, heap, event loop).',
  tags: ['game-appliance', 'host'],
  rows: [
    {
      title: 'Host',
      panels: [
        panel.timeseries('Host CPU', 'Busy fraction of all host CPUs.', 'percentunit', [target(q.max(M.hostCpuUtilization, P, ['service']), '{{service}}')], { thresholds: thresholdLines('host-cpu') }),
        panel.timeseries('Host memory used', '1 − MemAvailable / MemTotal.', 'percentunit', [target(q.max(M.hostMemoryUsed, P, ['service']), '{{service}}')], { thresholds: thresholdLines('host-memory') }),
        panel.timeseries('Disk used', 'Used fraction of the filesystem holding each watched path.', 'percentunit', [target(q.max(M.hostDiskUsed, P, ['service', 'path']), '{{service}} {{path}}')], {
          thresholds: thresholdLines('host-disk'),
        }),
        panel.stat('Host memory available', 'MemAvailable of the host.', 'bytes', [target(q.max(M.hostMemoryAvailable, P), 'available')]),
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
