// Usernames are unique regardless of case: "Ann", "ann" and "ANN" are one name. Names are ASCII
// (A-Z a-z 0-9 _ . -), so lower() is the same in every collation. Rows that already collide are
// not merged or renamed behind anyone's back: the precheck lists them and the migration stops
// until an operator has renamed all but one of each group (docs/DATABASE.md).
import type { Migration } from './index.js'

export default {
  version: 4,
  name: 'username_case_insensitive',
  precheck: 'username-case-duplicates',
  sql: `
CREATE UNIQUE INDEX players_username_lower_key ON players (lower(username));
`,
} as const satisfies Migration
