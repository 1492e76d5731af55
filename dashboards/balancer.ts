/** The balancer: per-backend connections, health and latency, refused clients, cluster membership. */
import { thresholdLines } from './alert-model.js'
import { panel, q, SELECT, target, type DashboardSpec } from './common.js'
import { METRICS as M } from './telemetry.js'

const B = SELECT.balancer

export const balancer: DashboardSpec = {
  uid: 'gs-balancer',
  title: 'Game appliance — balancer',
  description: 'The L4 balancer in front of the game servers: where connections go, which backends are healthy, and cluster membership.',
  tags: ['game-appliance', 'balancer'],
  rows: [
    {
      title: 'Backends',
      panels: [
        panel.timeseries('Connections by backend', 'Client connections proxied to each backend now.', 'short', [target(q.sum(M.backendConnections, B, ['backend']), '{{backend}}')]),
        panel.timeseries('New connections / s by backend', 'Client connections handed to each backend per second.', 'ops', [target(q.rate(M.backendConnectionsTotal, B, ['backend']), '{{backend}}')]),
        panel.timeseries('Backend healthy', '1 while a backend passes its health checks (rise/fall thresholds).', 'short', [target(q.min(M.backendHealthy, B, ['backend']), '{{backend}}')]),
        panel.stat('Unhealthy backends', 'Backends failing their health checks now (0 when all are healthy).', 'short', [target(`sum (1 - ${q.series(M.backendHealthy, B)})`, 'unhealthy')], {
          thresholds: thresholdLines('unhealthy-backends'),
        }),
        panel.timeseries('Backend latency p95', 'Backend connect / health-check latency, 95th percentile by backend.', 's', [target(q.quantile(0.95, M.backendLatency, B, ['backend']), '{{backend}}')]),
        panel.timeseries('Refused connections / s', 'Clients told that no backend is healthy.', 'ops', [target(q.rate(M.balancerRejected, B), 'refused')], { sparse: true }),
      ],
    },
    {
      title: 'Cluster',
      panels: [
        panel.timeseries('Cluster members', 'Live members as each process sees them.', 'short', [target(q.max(M.clusterMembers, SELECT.appProcesses, ['service']), '{{service}}')]),
        panel.timeseries('Leader', '1 on the process that holds the leader lease.', 'short', [target(q.max(M.clusterLeader, SELECT.appProcesses, ['service']), '{{service}}')]),
      ],
    },
  ],
}
