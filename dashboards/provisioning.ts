/**
 * Grafana provisioning: the Prometheus datasource (URL from the container's PROMETHEUS_URL, set by
 * the topology), the dashboard provider (files under /etc/grafana/dashboards) and the contact
 * point + notification policy for the bottleneck alerts (address from ALERT_EMAIL). Grafana expands
 * `$VARIABLE` references in provisioning files from its environment.
 */
import { DATASOURCE, DATASOURCE_NAME } from './common.js'

export const GRAFANA_DASHBOARD_DIR = '/etc/grafana/dashboards'

export function datasources() {
  return {
    apiVersion: 1,
    datasources: [
      {
        name: DATASOURCE_NAME,
        uid: DATASOURCE.uid,
        type: DATASOURCE.type,
        access: 'proxy',
        url: '$PROMETHEUS_URL',
        isDefault: true,
        editable: false,
        jsonData: { timeInterval: '5s', httpMethod: 'POST' },
      },
    ],
  }
}

export function dashboardProviders() {
  return {
    apiVersion: 1,
    providers: [
      {
        name: 'game-appliance',
        orgId: 1,
        folder: 'Game appliance',
        type: 'file',
        disableDeletion: true,
        allowUiUpdates: false,
        updateIntervalSeconds: 60,
        options: { path: GRAFANA_DASHBOARD_DIR, foldersFromFilesStructure: false },
      },
    ],
  }
}

export function contactPoints() {
  return {
    apiVersion: 1,
    contactPoints: [
      {
        orgId: 1,
        name: 'operators',
        receivers: [{ uid: 'gs-operators-email', type: 'email', settings: { addresses: '$ALERT_EMAIL', singleEmail: true }, disableResolveMessage: false }],
      },
    ],
    policies: [{ orgId: 1, receiver: 'operators', group_by: ['alertname', 'severity'], group_wait: '30s', group_interval: '5m', repeat_interval: '4h' }],
  }
}
