/** The server hot path: frames, batches, flushes, compression, sessions, violations. */
import { thresholdLines } from './alert-model.js'
import { panel, q, SELECT, target, type DashboardSpec } from './common.js'
import { METRICS as M } from './telemetry.js'

const S = SELECT.servers

export const serverHotPath: DashboardSpec = {
  uid: 'gs-server-hot-path',
  title: 'Game appliance — server hot path',
  description: 'Inbound frames and the batch processor, outbound coalescing and flushes, BATCH compression, sessions and protocol violations.',
  tags: ['game-appliance', 'server'],
  rows: [
    {
      title: 'Inbound',
      panels: [
        panel.timeseries('Frames in / s by type', 'Inbound frames per second by frame type (BATCH contents counted individually).', 'ops', [target(q.rate(M.framesIn, S, ['type']), '{{type}}')]),
        panel.timeseries('Frame processing by type', 'Handler time per frame: p50 and p95 by type.', 's', [
          target(q.quantile(0.5, M.frameProcessing, S, ['type']), 'p50 {{type}}'),
          target(q.quantile(0.95, M.frameProcessing, S, ['type']), 'p95 {{type}}'),
        ], { thresholds: thresholdLines('frame-processing-p95') }),
        panel.timeseries('Frames per batch run', 'Frames the batch processor takes per run (flush at BATCH_MAX_FRAMES): p50 and p95.', 'short', [
          target(q.quantile(0.5, M.batchSize, S), 'p50'),
          target(q.quantile(0.95, M.batchSize, S), 'p95'),
        ]),
        panel.timeseries('Batch run duration', 'Duration of one batch-processor run: p95 and mean.', 's', [
          target(q.quantile(0.95, M.batchProcessing, S), 'p95'),
          target(q.mean(M.batchProcessing, S), 'mean'),
        ]),
        panel.timeseries('Inbound queue depth', 'Frames waiting for the batch processor: last and largest since the previous scrape.', 'short', [
          target(q.max(M.queueDepth, S, ['service']), 'last {{service}}'),
          target(q.max(M.queueDepthMax, S, ['service']), 'max {{service}}'),
        ]),
        panel.timeseries('Frames shed / s', 'Inbound frames dropped because the queue was full.', 'ops', [target(q.rate(M.framesShed, S, ['service']), '{{service}}')], { sparse: true }),
      ],
    },
    {
      title: 'Outbound',
      panels: [
        panel.timeseries('Frames out / s by type', 'Frames queued for sending per second by type.', 'ops', [target(q.rate(M.framesOut, S, ['type']), '{{type}}')]),
        panel.timeseries('Flushes / s by trigger', 'Send-buffer writes by trigger: count, fill, timer, idle (latency-aware), drain, close.', 'ops', [target(q.rate(M.flushes, S, ['reason']), '{{reason}}')]),
        panel.timeseries('Frames per flush', 'Coalescing: frames written per send-buffer write, by trigger.', 'short', [
          target(`${q.rate(M.flushedFrames, S, ['reason'])} / ${q.rate(M.flushes, S, ['reason'])}`, '{{reason}}'),
        ]),
        panel.timeseries('Bytes in / out', 'Bytes read from and written to game sockets per second.', 'Bps', [
          target(q.rate(M.bytesIn, S), 'in'),
          target(q.rate(M.bytesOut, S), 'out'),
        ]),
        panel.timeseries('BATCH compression', 'Compressed / original size of BATCH frames (p50) and bytes saved per second.', 'percentunit', [
          target(q.quantile(0.5, M.batchCompressionRatio, S), 'ratio p50'),
        ], { sparse: true }),
        panel.timeseries('Outbound backlog', 'Bytes queued behind backed-up sockets over all sessions.', 'bytes', [target(q.max(M.outboundBacklog, S, ['service']), '{{service}}')], {
          thresholds: thresholdLines('outbound-backlog'),
        }),
        panel.timeseries('I/O events / s', 'Events of the event-driven processor: read, write, timeout, error.', 'ops', [target(q.rate(M.ioEvents, S, ['kind']), '{{kind}}')]),
      ],
    },
    {
      title: 'Zone stream',
      panels: [
        panel.timeseries('Zone ticks and their writes / s', 'Zone ticks per second, and the sessions they wrote to per second (ZONE_TICK_WRITES_PER_SECOND keeps each zone near it by stretching its ticks).', 'ops', [
          target(q.rate(M.zoneTicks, S), 'ticks'),
          target(q.rate(M.zoneTickRecipients, S), 'session writes'),
        ]),
        panel.timeseries('Zone tick interval', 'The longest current tick interval over the zones of each server: 0 when every change goes out within the event-loop turn, at most ZONE_TICK_MAX_MS when a zone is crowded. A move reaches observers within it.', 's', [
          target(q.max(M.zoneTickInterval, S, ['service']), '{{service}}'),
        ]),
        panel.timeseries('Zone stream bytes / s', 'Bytes of zone-stream frames encoded per second (once per cell and tick, after compression), before being queued to every session that sees the cell.', 'Bps', [target(q.rate(M.zoneStreamBytes, S), 'encoded')]),
      ],
    },
    {
      title: 'Sessions',
      panels: [
        panel.timeseries('Active sessions by server', 'Open game sessions per server.', 'short', [target(q.sum(M.sessionsActive, S, ['service']), '{{service}}')]),
        panel.timeseries('Sessions accepted / closed', 'Sessions accepted per second, and closed per second by reason.', 'ops', [
          target(q.rate(M.sessionsAccepted, S), 'accepted'),
          target(q.rate(M.sessionsClosed, S, ['reason']), 'closed {{reason}}'),
        ]),
        panel.timeseries('Protocol violations / s', 'Protocol violations by kind (the session is closed after MAX_VIOLATIONS).', 'ops', [target(q.rate(M.violations, S, ['kind']), '{{kind}}')], {
          sparse: true,
        }),
        panel.timeseries('Slow-client disconnects / s', 'Sessions cut off because their backlog passed MAX_OUTBOUND_BYTES.', 'ops', [target(q.rate(M.slowClients, S), 'disconnects')], { sparse: true }),
      ],
    },
    {
      title: 'Transports (TCP, WebSocket)',
      panels: [
        panel.timeseries('Active sessions by transport', 'Open game sessions by the listener they came in on: tcp (GAME_PORT) or ws (WS_PORT).', 'short', [target(q.sum(M.transportSessionsActive, S, ['transport']), '{{transport}}')]),
        panel.timeseries('Sessions accepted / s by transport', 'Sessions accepted per second by transport.', 'ops', [target(q.rate(M.transportSessionsAccepted, S, ['transport']), '{{transport}}')]),
        panel.timeseries('Bytes in / out by transport', 'Bytes read from and written to game sessions per second, by transport (WebSocket: message payloads).', 'Bps', [
          target(q.rate(M.transportBytesIn, S, ['transport']), 'in {{transport}}'),
          target(q.rate(M.transportBytesOut, S, ['transport']), 'out {{transport}}'),
        ]),
        panel.timeseries('Frames in / s by transport', 'Frames received per second by transport.', 'ops', [target(q.rate(M.transportFramesIn, S, ['transport']), '{{transport}}')]),
        panel.timeseries('Slow-client disconnects / s by transport', 'Slow-client cut-offs by transport.', 'ops', [target(q.rate(M.transportSlowClients, S, ['transport']), '{{transport}}')], { sparse: true }),
      ],
    },
  ],
}
