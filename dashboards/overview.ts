/** Overview: is the appliance up, how busy is it, is anything near a bottleneck threshold. */
import { thresholdLines } from './alert-model.js'
import { panel, q, SELECT, target, type DashboardSpec } from './common.js'
import { METRICS as M } from './telemetry.js'

export const overview: DashboardSpec = {
  uid: 'gs-overview',
  title: 'Game appliance — overview',
  description: 'Health and load of the whole appliance at a glance; the bottleneck alerts are drawn as annotations.',
  tags: ['game-appliance', 'overview'],
  rows: [
    {
      title: 'Now',
      panels: [
        panel.stat('Active sessions', 'Open game sessions over all servers.', 'short', [target(q.sum(M.sessionsActive, SELECT.servers), 'sessions')]),
        panel.stat('Frames in / s', 'Inbound frames per second over all servers.', 'ops', [target(q.rate(M.framesIn, SELECT.servers), 'frames/s')]),
        panel.stat('Targets up', 'Scrape targets answering (servers, balancer, exporters).', 'short', [target(q.external('up', 'job=~".+"'), 'up')]),
        panel.stat('Bottlenecks raised', 'Bottlenecks the in-process detectors currently hold raised.', 'short', [target(q.sum(M.bottleneckActive, SELECT.appProcesses), 'raised')]),
      ],
    },
    {
      title: 'Load and latency',
      panels: [
        panel.timeseries('Frames in / s by server', 'Inbound frames per second per game server.', 'ops', [target(q.rate(M.framesIn, SELECT.servers, ['service']), '{{service}}')]),
        panel.timeseries('Frame processing p95', 'Handler time per frame, 95th percentile per server.', 's', [target(q.quantile(0.95, M.frameProcessing, SELECT.servers, ['service']), '{{service}}')], {
          thresholds: thresholdLines('frame-processing-p95'),
        }),
        panel.timeseries('Host CPU', 'Busy fraction of the CPUs of each host (node_exporter, once per host).', 'percentunit', [target(q.threshold('host-cpu'), '{{instance}}')], {
          thresholds: thresholdLines('host-cpu'),
        }),
        panel.timeseries('Host memory used', '1 − MemAvailable / MemTotal of each host (node_exporter).', 'percentunit', [target(q.threshold('host-memory'), '{{instance}}')], {
          thresholds: thresholdLines('host-memory'),
        }),
        panel.timeseries('Balancer connections by backend', 'Client connections the balancer proxies to each backend now.', 'short', [
          target(q.sum(M.backendConnections, SELECT.balancer, ['backend']), '{{backend}}'),
        ]),
        panel.timeseries('Targets up by job', 'Scrape targets answering, per job.', 'short', [target(q.external('up', 'job=~".+"', ['job']), '{{job}}')]),
        panel.timeseries('Logins / s by result', 'REGISTER and LOGIN answers per second over all servers: ok, failed (credentials, token, name taken), throttled (login throttling), refused (overloaded, shutting down), unavailable (a store is down), abandoned (the client left first), error.', 'ops', [
          target(q.rate(M.logins, SELECT.servers, ['result']), '{{result}}'),
        ]),
      ],
    },
  ],
}
