// Game log: what happened to whom (grants, admin actions), payload as jsonb.
export default {
  version: 2,
  name: 'game_log',
  sql: `
CREATE TABLE game_log (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event      text NOT NULL CHECK (char_length(event) BETWEEN 1 AND 64),
  player_id  integer REFERENCES players (id) ON DELETE SET NULL,
  payload    jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- a player's history, newest first
CREATE INDEX game_log_player_created_idx ON game_log (player_id, created_at DESC) WHERE player_id IS NOT NULL;
-- events of one kind over time
CREATE INDEX game_log_event_created_idx ON game_log (event, created_at DESC);
`,
} as const
