// `npm run playground`: rebuilds the browser client bundle the game server serves as /client.js.
import { writeFileSync } from 'node:fs'
import { BUNDLE_MODULE, bundleBrowserClient, bundleModuleSource } from '../playground/build.js'

const bundle = await bundleBrowserClient()
writeFileSync(BUNDLE_MODULE, bundleModuleSource(bundle))
process.stdout.write(`wrote app/playground/generated/client-bundle.ts (${bundle.length} characters of script)\n`)
