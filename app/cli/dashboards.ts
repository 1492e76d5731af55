// Writes dashboards/generated/ (Grafana dashboards and provisioning, Prometheus rules and promtool tests).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { GENERATED_DIR, generatedFiles } from '../../dashboards/generate.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const out = join(root, GENERATED_DIR)
rmSync(out, { recursive: true, force: true })
const files = generatedFiles()
for (const [path, content] of files) {
  mkdirSync(dirname(join(out, path)), { recursive: true })
  writeFileSync(join(out, path), content)
}
process.stdout.write(`wrote ${files.size} files under ${GENERATED_DIR}/\n`)
