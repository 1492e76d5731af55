/**
 * Telemetry: the Prometheus endpoint (its port is METRICS_PORT of the server section), the system
 * sampler, the bottleneck detector and the periodic performance report. Every process kind
 * (server, balancer, load generator) reads this section.
 */
import { boolean, integer, text } from './schema.js'

export const telemetrySection = {
  enabled: boolean('METRICS_ENABLED', true, 'Record metrics and serve /metrics and /bottlenecks on METRICS_PORT; false records nothing (no-op metrics).'),
  host: text('METRICS_HOST', '127.0.0.1', 'Address the metrics HTTP endpoint (/metrics, /bottlenecks, /healthz, /readyz) listens on. Loopback by default: metrics and probes are not for the internet; the deployed stack binds the container\'s private network (never published).'),
  systemSampleIntervalMs: integer('SYSTEM_SAMPLE_INTERVAL_MS', 5000, 'How often host/process CPU, event-loop delay and utilisation are sampled (rates are over this interval).', { min: 100 }),
  diskPaths: text('DISK_PATHS', '/', 'Comma-separated paths whose filesystems are reported (statfs).'),
  detectorWindowMs: integer('BOTTLENECK_WINDOW_MS', 30000, 'Sliding window over which the bottleneck detector computes percentiles and rates.', { min: 100 }),
  detectorIntervalMs: integer('BOTTLENECK_EVAL_INTERVAL_MS', 1000, 'How often the bottleneck detector evaluates the thresholds.', { min: 50 }),
  reportIntervalMs: integer('REPORT_INTERVAL_MS', 30000, 'Interval of the performance report log line (rates over the interval); 0 disables it.', { min: 0 }),
} as const
