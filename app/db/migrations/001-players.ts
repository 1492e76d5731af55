// Players: one row per account, the persistent part of a player.
export default {
  version: 1,
  name: 'players',
  sql: `
CREATE TABLE players (
  id            integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username      text NOT NULL,
  email         text,
  password_hash text NOT NULL,
  level         integer NOT NULL DEFAULT 1 CHECK (level >= 1),
  experience    bigint NOT NULL DEFAULT 0 CHECK (experience >= 0),
  gold          bigint NOT NULL DEFAULT 0 CHECK (gold >= 0),
  zone          integer NOT NULL DEFAULT 0,
  pos_x         double precision NOT NULL DEFAULT 0,
  pos_y         double precision NOT NULL DEFAULT 0,
  hp            integer NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_login    timestamptz,
  version       integer NOT NULL DEFAULT 1,
  CONSTRAINT players_username_key UNIQUE (username),
  CONSTRAINT players_email_key UNIQUE (email),
  CONSTRAINT players_username_length CHECK (char_length(username) BETWEEN 1 AND 64)
);
-- findMany: level range ordered by (level, id) and the level >= n scan of grantGold
CREATE INDEX players_level_id_idx ON players (level, id);
-- findMany: username prefix (LIKE 'prefix%' needs pattern ops under a non-C collation)
CREATE INDEX players_username_pattern_idx ON players (username text_pattern_ops);
-- findMany: players of a zone, keyset on id
CREATE INDEX players_zone_id_idx ON players (zone, id);
`,
} as const
