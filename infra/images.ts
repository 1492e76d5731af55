/**
 * The third-party images of the stack, pinned by tag: a floating tag (`postgres:17-alpine`) would
 * let a routine `pulumi up` on a new host pull a different minor version than the one tested. To
 * pin by digest as well (immutable even if a tag is re-pushed), append it to the reference through
 * the `images` setting, e.g.
 *   pulumi config set --path 'images.postgres' 'postgres:17.4-alpine3.21@sha256:<digest>'
 * (the digest of a pulled image: `docker inspect --format '{{index .RepoDigests 0}}' postgres:17.4-alpine3.21`).
 */
export const DEFAULT_IMAGES = {
  postgres: 'postgres:17.4-alpine3.21',
  redis: 'redis:7.4.2-alpine3.21',
  prometheus: 'prom/prometheus:v2.55.1',
  grafana: 'grafana/grafana-oss:11.3.0',
  postgresExporter: 'quay.io/prometheuscommunity/postgres-exporter:v0.15.0',
  redisExporter: 'oliver006/redis_exporter:v1.62.0-alpine',
  nodeExporter: 'quay.io/prometheus/node-exporter:v1.8.2',
} as const

export type ImageKey = keyof typeof DEFAULT_IMAGES
