/**
 * The self-contained HTML report: one file, inline CSS and inline SVG line charts (no scripts, no
 * CDN), readable offline and attachable to a ticket. Charts: throughput, RTT percentiles, players,
 * generator health, every server series from Prometheus, and the capacity steps when present.
 */
import { formatCauses } from './error-cause.js'
import type { LoadReport } from './report.js'
import { ACTION_NAMES } from './scenario.js'
import { formatActual } from './thresholds.js'

interface ChartSeries {
  readonly name: string
  readonly points: ReadonlyArray<readonly [number, number]>
}

export interface ChartOptions {
  readonly id: string
  readonly title: string
  readonly xLabel: string
  readonly yUnit: string
  readonly series: readonly ChartSeries[]
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf']
const W = 760
const H = 240
const PAD = { left: 64, right: 16, top: 28, bottom: 40 }

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

/** A "nice" axis maximum and step (1, 2, 5 × 10^n). */
function niceScale(max: number): { top: number; step: number } {
  if (!(max > 0)) return { top: 1, step: 0.25 }
  const rough = max / 4
  const magnitude = 10 ** Math.floor(Math.log10(rough))
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough) ?? 10 * magnitude
  return { top: Math.ceil(max / step) * step, step }
}

function label(n: number): string {
  if (n === 0) return '0'
  const abs = Math.abs(n)
  if (abs >= 1e6) return `${+(n / 1e6).toFixed(2)}M`
  if (abs >= 1e4) return `${+(n / 1e3).toFixed(1)}k`
  if (abs >= 1) return `${+n.toFixed(2)}`
  return `${+n.toPrecision(2)}`
}

/** One SVG line chart. Always renders axes (an empty chart says "no data"). */
export function renderLineChart(options: ChartOptions): string {
  const all = options.series.flatMap((s) => s.points)
  const xMax = Math.max(1, ...all.map(([x]) => x))
  const xMin = Math.min(0, ...all.map(([x]) => x))
  const { top, step } = niceScale(Math.max(0, ...all.map(([, y]) => (Number.isFinite(y) ? y : 0))))
  const plotW = W - PAD.left - PAD.right
  const plotH = H - PAD.top - PAD.bottom
  const sx = (x: number): number => PAD.left + ((x - xMin) / (xMax - xMin || 1)) * plotW
  const sy = (y: number): number => PAD.top + plotH - (Math.min(y, top) / top) * plotH
  const parts: string[] = []
  parts.push(`<svg class="chart" data-chart="${escapeHtml(options.id)}" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(options.title)}">`)
  parts.push(`<text x="${PAD.left}" y="18" class="title">${escapeHtml(options.title)}${options.yUnit ? ` (${escapeHtml(options.yUnit)})` : ''}</text>`)
  for (let v = 0; v <= top + step / 2; v += step) {
    const y = sy(v).toFixed(1)
    parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y}" y2="${y}" class="grid"/><text x="${PAD.left - 6}" y="${y}" class="ylabel">${label(v)}</text>`)
  }
  const xStep = niceScale(xMax - xMin).step
  for (let v = Math.ceil(xMin / xStep) * xStep; v <= xMax + xStep / 2; v += xStep) {
    parts.push(`<text x="${sx(v).toFixed(1)}" y="${H - PAD.bottom + 16}" class="xlabel">${label(v)}</text>`)
  }
  parts.push(`<text x="${PAD.left + plotW / 2}" y="${H - 6}" class="xlabel">${escapeHtml(options.xLabel)}</text>`)
  parts.push(`<rect x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}" class="frame"/>`)
  if (all.length === 0) parts.push(`<text x="${PAD.left + plotW / 2}" y="${PAD.top + plotH / 2}" class="xlabel">no data</text>`)
  options.series.forEach((series, i) => {
    const color = COLORS[i % COLORS.length]!
    const pts = series.points.filter(([, y]) => Number.isFinite(y))
    if (pts.length === 1) {
      const [x, y] = pts[0]!
      parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${color}" class="series" data-series="${escapeHtml(series.name)}"/>`)
    } else if (pts.length > 1) {
      const d = pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')
      parts.push(`<polyline points="${d}" fill="none" stroke="${color}" stroke-width="2" class="series" data-series="${escapeHtml(series.name)}"/>`)
    }
    const lx = PAD.left + 8 + i * 120
    parts.push(`<rect x="${lx}" y="${PAD.top + 6}" width="10" height="10" fill="${color}"/><text x="${lx + 14}" y="${PAD.top + 15}" class="legend">${escapeHtml(series.name)}</text>`)
  })
  parts.push('</svg>')
  return parts.join('')
}

const CSS = `
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;max-width:1600px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:24px 0 8px}
.meta{color:#555;margin-bottom:16px}
table{border-collapse:collapse;margin:8px 0} td,th{border:1px solid #ddd;padding:4px 10px;text-align:left;font-variant-numeric:tabular-nums}
th{background:#f4f4f4} .pass{color:#137333;font-weight:600} .fail{color:#c5221f;font-weight:600}
.warn{background:#fff4e5;border:1px solid #f0a020;padding:8px 12px;margin:8px 0}
.charts{display:flex;flex-wrap:wrap;gap:16px}
svg.chart{background:#fff;border:1px solid #e3e3e3}
svg .title{font-size:14px;font-weight:600;fill:#222} svg .grid{stroke:#eee} svg .frame{fill:none;stroke:#bbb}
svg .ylabel{font-size:11px;fill:#666;text-anchor:end;dominant-baseline:middle} svg .xlabel{font-size:11px;fill:#666;text-anchor:middle}
svg .legend{font-size:11px;fill:#333}
`

function row(cells: readonly string[], header = false): string {
  const tag = header ? 'th' : 'td'
  return `<tr>${cells.map((c) => `<${tag}>${c}</${tag}>`).join('')}</tr>`
}

const f = (n: number, d = 3): string => (Number.isFinite(n) ? n.toFixed(d) : String(n))

export function renderHtmlReport(report: LoadReport): string {
  const s = report.summary
  const t = report.timeline
  const xs = (pick: (p: (typeof t)[number]) => number): Array<[number, number]> => t.map((p) => [p.second, pick(p)])
  const charts: string[] = [
    renderLineChart({ id: 'throughput', title: 'Throughput', xLabel: 'seconds', yUnit: 'per second', series: [{ name: 'answered', points: xs((p) => p.answered) }, { name: 'sent', points: xs((p) => p.sent) }, { name: 'errors', points: xs((p) => p.errors) }] }),
    renderLineChart({ id: 'latency', title: 'RTT percentiles', xLabel: 'seconds', yUnit: 'ms', series: [{ name: 'p50', points: xs((p) => p.p50Ms) }, { name: 'p90', points: xs((p) => p.p90Ms) }, { name: 'p99', points: xs((p) => p.p99Ms) }, { name: 'p999', points: xs((p) => p.p999Ms) }] }),
    renderLineChart({ id: 'players', title: 'Players', xLabel: 'seconds', yUnit: 'count', series: [{ name: 'connected', points: xs((p) => p.connected) }, { name: 'disconnects', points: xs((p) => p.disconnects) }] }),
    renderLineChart({ id: 'generator', title: 'Generator health', xLabel: 'seconds', yUnit: '% busy / ms', series: [{ name: 'loop busy %', points: xs((p) => p.generatorUtilization * 100) }, { name: 'loop delay p99 ms', points: xs((p) => p.generatorLoopDelayP99Ms) }] }),
  ]
  const serverCharts = (report.server?.series ?? []).map((series, i) =>
    renderLineChart({ id: `server-${i}`, title: `Server: ${series.name}`, xLabel: 'seconds', yUnit: series.unit, series: [{ name: series.name, points: series.points }] }),
  )
  if (report.capacity) {
    const steps = report.capacity.steps
    charts.push(
      renderLineChart({ id: 'capacity', title: 'Capacity search', xLabel: 'players', yUnit: 'req/s · ms', series: [{ name: 'req/s', points: steps.map((st) => [st.players, st.throughputPerSecond]) }, { name: 'p99 ms', points: steps.map((st) => [st.players, st.p99Ms]) }] }),
    )
  }
  const target = report.targets.map((x) => `${x.host}:${x.port}`).join(', ')
  const summaryRows = [
    row(['peak players', String(s.peakConnected)]),
    row(['requests sent / answered / rule-rejected', `${s.sent} / ${s.answered} / ${s.rejected}`]),
    ...ACTION_NAMES.filter((a) => s.byAction[a].ok + s.byAction[a].errors > 0).map((a) => row([`&nbsp;&nbsp;${a}`, `${s.byAction[a].ok} answered (${s.byAction[a].rejected} rejected), ${s.byAction[a].errors} errors${s.byAction[a].errors > 0 ? ` (${escapeHtml(formatCauses(s.byAction[a].errorsByCause))})` : ''}${s.byAction[a].rtt.count > 0 ? `; RTT p50 ${f(s.byAction[a].rtt.p50Ms)} / p99 ${f(s.byAction[a].rtt.p99Ms)} ms` : ''}`])),
    row(['throughput', `${f(s.throughputPerSecond, 1)} req/s`]),
    row(['RTT p50 / p90 / p99 / p999 / max', `${f(s.rtt.p50Ms)} / ${f(s.rtt.p90Ms)} / ${f(s.rtt.p99Ms)} / ${f(s.rtt.p999Ms)} / ${f(s.rtt.maxMs)} ms`]),
    row(['errors', `${s.errors} (${f(s.errorRate * 100)} %), timeouts ${s.timeouts}`]),
    ...Object.entries(s.errorsByCause).sort((x, y) => y[1] - x[1]).map(([cause, n]) => row([`&nbsp;&nbsp;error ${escapeHtml(cause)}`, String(n)])),
    row(['disconnects / connect failures', `${s.disconnects} / ${s.connectFailures}${s.connectFailures > 0 ? ` (${escapeHtml(formatCauses(s.connectFailuresByCause))})` : ''}`]),
    ...(report.machine ? [row(['generator machine', escapeHtml(`${report.machine.hostname}: ${report.machine.cpuModel} × ${report.machine.cores}, node ${report.machine.node}, load average ${report.machine.loadAverageAtStart.toFixed(1)} → ${report.machine.loadAverageAtEnd.toFixed(1)}`)])] : []),
    row(['generator', `${report.generator.workers} worker(s), max loop busy ${f(report.generator.maxUtilization * 100, 0)} %, loop delay p99 ≤ ${f(report.generator.maxLoopDelayP99Ms, 1)} ms`]),
  ].join('')
  const server = report.server
  const serverRows = server
    ? Object.entries(server.figures).map(([k, v]) => row([escapeHtml(k), v === null ? 'n/a' : f(v)])).join('') +
      row(['alerts during the run', server.alerts.length === 0 ? 'none' : escapeHtml(server.alerts.map((a) => `${a.name} (${a.state})`).join(', '))]) +
      (server.missing.length ? row(['not available', escapeHtml(server.missing.join(', '))]) : '')
    : ''
  const thresholdRows = report.thresholds.map((x) => row([escapeHtml(x.threshold), escapeHtml(formatActual(x.metric, x.actual)), `<span class="${x.passed ? 'pass' : 'fail'}">${x.passed ? 'PASS' : 'FAIL'}</span>`])).join('')
  const capacity = report.capacity
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Load test ${escapeHtml(report.scenario.name)} — ${escapeHtml(report.startedAt)}</title>
<style>${CSS}</style></head><body>
<h1>Load test: ${escapeHtml(report.scenario.name)} <span class="${report.passed ? 'pass' : 'fail'}">${report.passed ? 'PASSED' : 'FAILED'}</span></h1>
<div class="meta">${escapeHtml(report.startedAt)} · target ${escapeHtml(target)} · ${f(report.elapsedSeconds, 1)} s${report.aborted ? ' (stopped early)' : ''} · ${escapeHtml(report.scenario.description)}</div>
${report.generator.bottleneck ? `<div class="warn"><b>The generator was the bottleneck:</b> ${report.generator.reasons.map(escapeHtml).join('; ')}</div>` : ''}
<h2>Summary</h2><table>${summaryRows}</table>
${thresholdRows ? `<h2>Thresholds</h2><table>${row(['threshold', 'actual', 'result'], true)}${thresholdRows}</table>` : ''}
${capacity ? `<h2>Capacity</h2><p>Target: ${escapeHtml(capacity.target.join(', '))}. Highest load that met it: <b>${capacity.highestPassingPlayers === null ? 'none' : `${capacity.highestPassingPlayers} players (${f(capacity.highestPassingThroughputPerSecond ?? 0, 1)} req/s)`}</b> — ${escapeHtml(capacity.stoppedBecause)}.</p>` : ''}
<h2>Client-side charts</h2><div class="charts">${charts.join('\n')}</div>
${server ? `<h2>Server (from ${escapeHtml(server.source)})</h2><table>${serverRows}</table><div class="charts">${serverCharts.join('\n')}</div>` : ''}
</body></html>
`
}
