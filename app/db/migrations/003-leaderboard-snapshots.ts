// Leaderboard snapshots: the top N of a Redis leaderboard copied to PostgreSQL by the cluster
// leader, fenced by its election token (cluster_fences) so a deposed leader's late write is refused.
export default {
  version: 3,
  name: 'leaderboard_snapshots',
  sql: `
CREATE TABLE leaderboard_snapshots (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  board         text NOT NULL CHECK (char_length(board) BETWEEN 1 AND 64),
  taken_at      timestamptz NOT NULL DEFAULT now(),
  fencing_token bigint NOT NULL CHECK (fencing_token > 0),
  taken_by      text NOT NULL,
  entries       jsonb NOT NULL CHECK (jsonb_typeof(entries) = 'array')
);
-- the latest snapshot of a board, and retention (keep the newest n per board)
CREATE INDEX leaderboard_snapshots_board_taken_idx ON leaderboard_snapshots (board, taken_at DESC, id DESC);
-- the newest fencing token each leader-written resource has accepted
CREATE TABLE cluster_fences (
  resource      text PRIMARY KEY CHECK (char_length(resource) BETWEEN 1 AND 128),
  fencing_token bigint NOT NULL CHECK (fencing_token > 0),
  holder        text NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now()
);
`,
} as const
