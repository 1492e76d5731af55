/**
 * Bridges pre-aggregated `BucketHistogram`s into the OTel pipeline: a `MetricProducer` handed to
 * the Prometheus exporter (a `MetricReader`), which merges its output with the SDK's instruments on
 * every scrape. Cumulative temporality, explicit buckets from the catalogue.
 */
import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api'
import { AggregationTemporality, DataPointType, type CollectionResult, type HistogramMetricData, type MetricProducer } from '@opentelemetry/sdk-metrics'
import type { Resource } from '@opentelemetry/resources'
import type { BucketHistogram } from './bucket-histogram.js'
import type { MetricDefinition } from './catalogue.js'

export interface HistogramSeries {
  readonly attributes: Attributes
  readonly histogram: BucketHistogram
}

interface Registered {
  readonly definition: MetricDefinition
  readonly series: () => Iterable<HistogramSeries>
}

export const SCOPE_NAME = 'game-server-appliance'

export class HistogramProducer implements MetricProducer {
  private readonly registered: Registered[] = []
  private readonly startTime: HrTime = hrNow()

  constructor(
    private readonly resource: Resource,
    /** Definitions this process kind exports; others are ignored at registration. */
    private readonly accepts: (definition: MetricDefinition) => boolean = () => true,
  ) {}

  /** Export `series()` (read at every collection) under `definition` (a catalogue histogram). */
  register(definition: MetricDefinition, series: () => Iterable<HistogramSeries>): void {
    if (definition.kind !== 'histogram') throw new TypeError(`${definition.name} is not a histogram`)
    if (this.accepts(definition)) this.registered.push({ definition, series })
  }

  async collect(): Promise<CollectionResult> {
    const endTime = hrNow()
    const metrics: HistogramMetricData[] = []
    for (const { definition, series } of this.registered) {
      const dataPoints: HistogramMetricData['dataPoints'] = []
      for (const { attributes, histogram } of series()) {
        if (histogram.count === 0) continue
        dataPoints.push({
          startTime: this.startTime,
          endTime,
          attributes,
          value: {
            buckets: { boundaries: Array.from(histogram.bounds), counts: Array.from(histogram.counts) },
            sum: histogram.sum,
            count: histogram.count,
            min: histogram.min,
            max: histogram.max,
          },
        })
      }
      if (dataPoints.length === 0) continue
      metrics.push({
        descriptor: { name: definition.otelName ?? definition.name, description: definition.help, unit: definition.unit, valueType: ValueType.DOUBLE },
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.HISTOGRAM,
        dataPoints,
      })
    }
    return { resourceMetrics: { resource: this.resource, scopeMetrics: [{ scope: { name: SCOPE_NAME }, metrics }] }, errors: [] }
  }
}

function hrNow(): HrTime {
  const ms = performance.timeOrigin + performance.now()
  const seconds = Math.floor(ms / 1000)
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)]
}
