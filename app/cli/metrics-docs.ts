// Writes docs/METRICS.md from the metric catalogue and the thresholds.
import { writeFileSync } from 'node:fs'
import { renderMetricsDocs } from '../telemetry/docs.js'

writeFileSync(new URL('../../docs/METRICS.md', import.meta.url), renderMetricsDocs())
process.stdout.write('wrote docs/METRICS.md\n')
