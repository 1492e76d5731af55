// Writes docs/CONFIG.md from the defaults table.
import { writeFileSync } from 'node:fs'
import { renderConfigDocs } from '../config/docs.js'

writeFileSync(new URL('../../docs/CONFIG.md', import.meta.url), renderConfigDocs())
process.stdout.write('wrote docs/CONFIG.md\n')
