/**
 * One telemetry provider for every process kind (server, balancer, load generator): an OTel
 * MeterProvider whose reader is the Prometheus exporter, with the resource attributes
 * `service.name`, `service.instance.id` and `role`. The exporter's own HTTP server is not started;
 * we serve its request handler on our own server so that we know the bound port (METRICS_PORT=0
 * picks a free one) and can add JSON routes next to `/metrics` (`/bottlenecks`, see
 * docs/TELEMETRY.md). `close()` is idempotent.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ValueType, type Attributes, type Meter, type ObservableResult } from '@opentelemetry/api'
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus'
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources'
import { MeterProvider } from '@opentelemetry/sdk-metrics'
import { ATTR_SERVICE_INSTANCE_ID, ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions'
import { GameServerError } from '../errors.js'
import { listenError } from '../tcp.js'
import { silentLogger, type Logger } from '../logger.js'
import type { MetricDefinition, TelemetryRole } from './catalogue.js'
import { HistogramProducer, SCOPE_NAME } from './histogram-producer.js'

export interface TelemetryProviderOptions {
  readonly role: TelemetryRole
  /** `service.instance.id` (NODE_ID). */
  readonly instanceId: string
  readonly host: string
  /** 0 picks a free port. */
  readonly port: number
  readonly logger?: Logger
}

/** A JSON route on the metrics port: return the body (serialised with JSON.stringify). */
export type JsonRoute = () => unknown

/** A health probe (/healthz, /readyz): 200 when `ok`, 503 otherwise; the body says why. */
export type ProbeRoute = () => Promise<{ readonly ok: boolean; readonly body: unknown }> | { readonly ok: boolean; readonly body: unknown }

export class TelemetryProvider {
  readonly role: TelemetryRole
  readonly resource: Resource
  readonly meter: Meter
  /** Every histogram (pre-aggregated, see bucket-histogram.ts), merged into every scrape. */
  readonly histograms: HistogramProducer
  private readonly meterProvider: MeterProvider
  private readonly exporter: PrometheusExporter
  private readonly server: Server
  private readonly routes = new Map<string, JsonRoute>()
  private readonly probes = new Map<string, ProbeRoute>()
  private readonly logger: Logger
  private closing: Promise<void> | null = null

  private constructor(options: TelemetryProviderOptions) {
    this.role = options.role
    this.logger = (options.logger ?? silentLogger).child({ component: 'telemetry' })
    this.resource = resourceFromAttributes({
      [ATTR_SERVICE_NAME]: `game-${options.role}`,
      [ATTR_SERVICE_INSTANCE_ID]: options.instanceId,
      role: options.role,
    })
    this.histograms = new HistogramProducer(this.resource, (definition) => this.exports(definition))
    this.exporter = new PrometheusExporter({ preventServerStart: true, metricProducers: [this.histograms] })
    this.meterProvider = new MeterProvider({ resource: this.resource, readers: [this.exporter] })
    this.meter = this.meterProvider.getMeter(SCOPE_NAME)
    this.server = createServer((req, res) => this.handle(req, res))
  }

  /** Create the provider and listen on host:port; resolves once the port is bound. */
  static async start(options: TelemetryProviderOptions): Promise<TelemetryProvider> {
    const provider = new TelemetryProvider(options)
    try {
      await new Promise<void>((resolve, reject) => {
        provider.server.once('error', reject)
        provider.server.listen({ host: options.host, port: options.port }, () => {
          provider.server.off('error', reject)
          resolve()
        })
      })
    } catch (err) {
      await provider.meterProvider.shutdown().catch(() => {})
      const placed = listenError(err, { host: 'METRICS_HOST', port: 'METRICS_PORT' }, options.host, options.port)
      if (placed !== err) throw placed
      throw new GameServerError('GS_ERR_METRICS_LISTEN', `metrics endpoint cannot listen on ${options.host}:${options.port}`, { host: options.host, port: options.port }, { cause: err })
    }
    provider.server.on('error', (err) => provider.logger.error({ err }, 'metrics endpoint error'))
    provider.logger.info({ port: provider.port, role: options.role }, 'metrics endpoint listening')
    return provider
  }

  /** The bound port of the metrics endpoint. */
  get port(): number {
    return (this.server.address() as AddressInfo).port
  }

  /** Serve `GET path` as JSON (e.g. `/bottlenecks`). */
  route(path: string, handler: JsonRoute): void {
    this.routes.set(path, handler)
  }

  /** Serve `GET path` as a probe for orchestrators: 200 or 503 with a JSON body. */
  probe(path: string, handler: ProbeRoute): void {
    this.probes.set(path, handler)
  }

  // --- instruments from catalogue definitions ---

  /** An observable counter or gauge (by the definition's kind) read by `callback` at collection. */
  observe(definition: MetricDefinition, callback: (result: ObservableResult<Attributes>) => void): void {
    if (!this.exports(definition)) return
    const options = { description: definition.help, unit: definition.unit, valueType: ValueType.DOUBLE }
    const instrument =
      definition.kind === 'counter'
        ? this.meter.createObservableCounter(definition.otelName ?? definition.name, options)
        : definition.kind === 'gauge'
          ? this.meter.createObservableGauge(definition.otelName ?? definition.name, options)
          : null
    if (instrument === null) throw new TypeError(`${definition.name} is a histogram; register it with histograms.register()`)
    instrument.addCallback((result) => {
      try {
        callback(result)
      } catch (err) {
        this.logger.error({ err, metric: definition.name }, 'metric callback failed')
      }
    })
  }

  /** Whether this process kind exports `definition` (catalogue `roles`). */
  exports(definition: MetricDefinition): boolean {
    return definition.roles.includes(this.role)
  }

  /** Stop serving and shut the MeterProvider down. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  private async shutdown(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve())
      this.server.closeAllConnections()
    })
    try {
      await this.meterProvider.shutdown()
    } catch (err) {
      this.logger.warn({ err }, 'meter provider shutdown failed')
    }
  }

  private async answerProbe(path: string, probe: ProbeRoute, res: ServerResponse): Promise<void> {
    try {
      const { ok, body } = await probe()
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body))
    } catch (err) {
      this.logger.error({ err, path }, 'probe failed')
      if (!res.headersSent) res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'error' }))
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?', 1)[0]!
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end()
      return
    }
    if (path === '/metrics') {
      this.exporter.getMetricsRequestHandler(req, res)
      return
    }
    const probe = this.probes.get(path)
    if (probe !== undefined) {
      void this.answerProbe(path, probe, res)
      return
    }
    const route = this.routes.get(path)
    if (route === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found; try /metrics or ${[...this.routes.keys(), ...this.probes.keys()].join(', ')}\n`)
      return
    }
    try {
      const body = JSON.stringify(route())
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(body)
    } catch (err) {
      this.logger.error({ err, path }, 'metrics route failed')
      res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error\n')
    }
  }
}
