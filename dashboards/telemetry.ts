/**
 * The one place dashboards and alert rules take metric names and thresholds from: the telemetry
 * catalogue and threshold definitions (app/telemetry). Nothing under dashboards/ spells a metric
 * name of the app itself; it goes through `METRICS` so a renamed metric breaks the build, not a panel.
 */
export { METRICS, METRIC_LIST, metricDefinition, seriesNames, type MetricDefinition } from '../app/telemetry/catalogue.js'
export { THRESHOLDS, alertRule, readingExpr, type Threshold, type ThresholdName } from '../app/telemetry/thresholds.js'
