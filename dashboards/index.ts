/** Every dashboard, in menu order. */
import { balancer } from './balancer.js'
import { cacheDatabase } from './cache-database.js'
import { renderDashboard, type DashboardSpec, type PanelSpec } from './common.js'
import { hostRuntime } from './host-runtime.js'
import { overview } from './overview.js'
import { serverHotPath } from './server-hot-path.js'

export const DASHBOARDS: readonly DashboardSpec[] = [overview, serverHotPath, balancer, cacheDatabase, hostRuntime]

/** Every panel with the dashboard it belongs to and the id it gets in the rendered JSON. */
export function allPanels(): { dashboard: DashboardSpec; panel: PanelSpec; id: number }[] {
  const out: { dashboard: DashboardSpec; panel: PanelSpec; id: number }[] = []
  for (const dashboard of DASHBOARDS) {
    const rendered = renderDashboard(dashboard)
    const specs = dashboard.rows.flatMap((row) => row.panels)
    const panels = rendered.panels.filter((p) => p.type !== 'row')
    specs.forEach((panel, i) => out.push({ dashboard, panel, id: panels[i]!.id as number }))
  }
  return out
}
