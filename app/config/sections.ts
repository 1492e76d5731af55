/**
 * The defaults table: every environment variable the appliance reads, by section.
 * The variables clients and operators already know by name (GAME_PORT, DATABASE_URL, REDIS_URLS,
 * BACKENDS… — README.md, "Configuration") keep their names; units are in the names of the rest.
 */
import { databaseVariables } from './database-section.js'
import { backendList, boolean, decimal, integer, oneOf, port, text, url, urlList } from './schema.js'

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

export const serverSection = {
  host: text('GAME_HOST', '0.0.0.0', 'Address the game server listens on.'),
  port: port('GAME_PORT', 7777, 'TCP port of the game server (0 picks a free port).'),
  metricsPort: port('METRICS_PORT', 9464, 'HTTP port serving Prometheus /metrics (0 picks a free port).'),
  nodeId: text('NODE_ID', undefined, 'Stable id of this process in the cluster; defaults to `<hostname>-<pid>`.', /^[A-Za-z0-9._-]{1,64}$/),
  logLevel: oneOf('LOG_LEVEL', LOG_LEVELS, 'info', 'Log level of the structured (pino) logger.'),
  listenBacklog: integer('LISTEN_BACKLOG', 4096, 'Listen backlog of the game socket (connect storms).', { min: 1, max: 65535 }),
  maxSessions: integer('MAX_SESSIONS', 20000, 'Sessions accepted at once; further connects get SERVER_FULL and are closed. Never more than the open-file limit (`ulimit -n`) minus a reserve for the server\'s own files (5 %, at least 128), whichever is lower.', { min: 1 }),
  trustProxyHeader: boolean('TRUST_PROXY_HEADER', false, 'Accept a PROXY protocol v1 line at the start of a connection and use its source as the client address (login throttling, takeover notices). Only behind a proxy that sends it (BALANCER_SEND_PROXY_HEADER) and on a port clients cannot reach directly: anyone who can reach the port can claim any address.'),
  maxConnectionsPerAddress: integer('MAX_CONNECTIONS_PER_ADDRESS', 64, 'Open connections allowed from one IP address; the next gets TOO_MANY_CONNECTIONS and is closed (0 disables; set 0 behind a proxy whose address every client shares).', { min: 0 }),
  shutdownDeadlineMs: integer('SHUTDOWN_DEADLINE_MS', 10000, 'On SIGTERM/SIGINT: time allowed to flush and close every session before exit.', { min: 0 }),
} as const

export const protocolSection = {
  // At least 128: the largest fixed-size reply, LOGIN_OK with a 32-character name and a 43-character
  // token, is 121 bytes, and the server never sends a frame above MAX_FRAME_BYTES.
  maxFrameBytes: integer('MAX_FRAME_BYTES', 16384, 'Largest frame accepted or sent, header included (128–65535; LOGIN_OK needs up to 121 bytes).', { min: 128, max: 65535 }),
  maxInflatedBatchBytes: integer('MAX_INFLATED_BATCH_BYTES', 262144, 'Upper bound on the decompressed body of one BATCH frame.', { min: 1024 }),
  batchThresholdBytes: integer('BATCH_THRESHOLD_BYTES', 1024, 'Outgoing frames of one flush become a compressed BATCH when they total at least this many bytes…', { min: 0 }),
  batchMaxRatio: decimal('BATCH_MAX_RATIO', 0.9, '…and zlib brings them below this fraction of the original size.', { min: 0, max: 1 }),
  compressionLevel: integer('COMPRESSION_LEVEL', 1, 'zlib level for BATCH bodies (1 = fastest).', { min: 0, max: 9 }),
  maxViolations: integer('MAX_VIOLATIONS', 3, 'Unknown-type or rate-limit violations tolerated before the session is closed.', { min: 1 }),
} as const

export const sessionSection = {
  flushMaxFrames: integer('FLUSH_MAX_FRAMES', 10, 'Flush the send buffer once it holds this many frames (with latency-aware flushing, a session already due to flush at the end of this turn sends them in that one write).', { min: 1 }),
  sendBufferBytes: integer('SEND_BUFFER_BYTES', 32768, 'Size of a session\'s coalescing send buffer.', { min: 1024 }),
  flushFillRatio: decimal('FLUSH_FILL_RATIO', 0.8, 'Flush once the send buffer is this full.', { min: 0.01, max: 1 }),
  flushIntervalMs: integer('FLUSH_INTERVAL_MS', 10, 'Flush timer for a busy session.', { min: 1 }),
  latencyAwareFlush: boolean('LATENCY_AWARE_FLUSH', true, 'Send a frame for an idle session in the same event-loop turn instead of waiting for the timer.'),
  maxOutboundBytes: integer('MAX_OUTBOUND_BYTES', 1048576, 'Bytes a session may have queued while its socket is backed up before it is disconnected as a slow client.', { min: 1024 }),
  idleTimeoutMs: integer('IDLE_TIMEOUT_MS', 60000, 'Close a session that sent nothing for this long (0 disables).', { min: 0 }),
  frameDeadlineMs: integer('FRAME_DEADLINE_MS', 10000, 'A frame whose first byte arrived must be complete within this long, else FRAME_TIMEOUT and close (slow-drip clients; 0 disables).', { min: 0 }),
  maxFramesPerSecond: integer('MAX_FRAMES_PER_SECOND', 2000, 'Per-session inbound frame rate limit.', { min: 1 }),
  maxBytesPerSecond: integer('MAX_BYTES_PER_SECOND', 1048576, 'Per-session inbound byte rate limit.', { min: 1024 }),
  sessionPoolSize: integer('SESSION_POOL_SIZE', 1024, 'Closed session objects (and their buffers) kept for reuse.', { min: 0 }),
} as const

export const gameSection = {
  batchMaxFrames: integer('BATCH_MAX_FRAMES', 100, 'Process the inbound queue once this many frames are queued.', { min: 1 }),
  tickMs: integer('TICK_MS', 0, 'Fixed processing tick in ms; 0 processes at the end of the event-loop turn (no added delay).', { min: 0 }),
  maxQueuedFrames: integer('MAX_QUEUED_FRAMES', 50000, 'Inbound queue bound; beyond it frames are shed and counted.', { min: 1 }),
  zoneCount: integer('ZONE_COUNT', 4, 'Zones of the in-memory world.', { min: 1, max: 1024 }),
  zoneSize: integer('ZONE_SIZE', 1000, 'Width and height of a zone in world units (at most 65536: positions in ZONE_UPDATE are 16-bit zone-local steps).', { min: 10, max: 65536 }),
  viewRadius: decimal('VIEW_RADIUS', 0, 'Interest management: a player sees the players of its zone within this distance (cells of this side, the 3 × 3 around its own); 0 = the whole zone.', { min: 0 }),
  zoneTickMaxMs: integer('ZONE_TICK_MAX_MS', 50, 'Longest a change waits for its zone tick (the tick interval of a crowded zone); a quiet zone ticks at the end of the event-loop turn.', { min: 1, max: 1000 }),
  zoneTickWritesPerSecond: integer('ZONE_TICK_WRITES_PER_SECOND', 10000, 'A zone\'s tick interval grows with its recipients so that its ticks cause about this many session writes per second (up to ZONE_TICK_MAX_MS).', { min: 100 }),
  maxSpeed: decimal('MAX_SPEED', 10, 'Largest allowed movement in units per second (server-validated).', { min: 0.1 }),
  chatMaxChars: integer('CHAT_MAX_CHARS', 256, 'Longest chat message in characters.', { min: 1, max: 4096 }),
  chatHistory: integer('CHAT_HISTORY', 50, 'Chat messages kept per zone.', { min: 1 }),
  attackRange: decimal('ATTACK_RANGE', 5, 'Largest distance an attack reaches.', { min: 0.1 }),
  attackCooldownMs: integer('ATTACK_COOLDOWN_MS', 500, 'Minimum time between two attacks of one player.', { min: 0 }),
  respawnMs: integer('RESPAWN_MS', 3000, 'Time a dead player waits before respawning.', { min: 0 }),
  sessionTokenTtlSeconds: integer('SESSION_TOKEN_TTL_SECONDS', 7200, 'Lifetime of a login session token (sliding).', { min: 1 }),
  maxHp: integer('MAX_HP', 100, 'Hit points of a new or respawned player.', { min: 1, max: 65535 }),
  attackDamage: integer('ATTACK_DAMAGE', 10, 'Hit points one attack takes.', { min: 1, max: 65535 }),
  passwordHashCost: integer('PASSWORD_HASH_COST', 16384, 'scrypt cost N for new password hashes (a power of two; lower only for tests and load tests).', { min: 1024, max: 1048576 }),
  passwordHashConcurrency: integer('PASSWORD_HASH_CONCURRENCY', 4, 'Password logins (scrypt) running at once; the rest wait in a bounded queue (keep ≤ UV_THREADPOOL_SIZE, 4 by default).', { min: 1, max: 1024 }),
  loginQueueTimeoutMs: integer('LOGIN_QUEUE_TIMEOUT_MS', 5000, 'A password login that waited this long for a hashing slot is answered OVERLOADED instead of being hashed.', { min: 1 }),
  maxPendingLogins: integer('MAX_PENDING_LOGINS', 1024, 'REGISTER/LOGIN requests hashing or waiting on a store at once; beyond it they are answered OVERLOADED.', { min: 1 }),
  loginAddressBurst: integer('LOGIN_ADDRESS_BURST', 10, 'Failed password logins and REGISTERs one client address may have before its next is answered LOGIN_THROTTLED without hashing (successes cost nothing); 0 disables. Set 0 on servers that only see a proxy\'s address.', { min: 0 }),
  loginAddressPerMinute: decimal('LOGIN_ADDRESS_PER_MINUTE', 20, 'Refill rate of the per-address login bucket; must be below LOGIN_ACCOUNT_PER_MINUTE so one address cannot keep an account throttled.', { min: 0.01 }),
  loginAccountBurst: integer('LOGIN_ACCOUNT_BURST', 30, 'Failed password logins on one account from addresses that never logged into it before the next is answered LOGIN_THROTTLED; 0 disables.', { min: 0 }),
  loginAccountPerMinute: decimal('LOGIN_ACCOUNT_PER_MINUTE', 30, 'Refill rate of the per-account login bucket.', { min: 0.01 }),
} as const

export const dataSection = {
  databaseUrl: url('DATABASE_URL', ['postgres:', 'postgresql:'], undefined, 'PostgreSQL URL; unset runs on in-memory stores.'),
  redisUrls: urlList('REDIS_URLS', ['redis:', 'rediss:'], 'Comma-separated redis:// URLs, one per shard; unset runs without a cache.'),
  ...databaseVariables,
} as const

export const balancerSection = {
  host: text('BALANCER_HOST', '0.0.0.0', 'Address the balancer listens on.'),
  port: port('BALANCER_PORT', 7000, 'TCP port of the balancer.'),
  webSocketPort: port('BALANCER_WS_PORT', undefined, 'Port of the balancer\'s WebSocket front: connections are passed through (TCP, no PING probe; a PROXY line first with BALANCER_SEND_PROXY_HEADER) to a backend\'s WebSocket listener. Unset: none.'),
  backendWebSocketPort: port('BACKEND_WS_PORT', 7780, 'WebSocket port of a backend whose own is not known: not announced through cluster membership, not given in its BACKENDS entry (`/wsPort`), not given when it was added through the admin interface.'),
  backends: backendList('BACKENDS', 'Comma-separated game servers, `host:port` or `host:port/wsPort` (the server\'s WS_PORT, where the balancer\'s WebSocket front sends browsers; without it BACKEND_WS_PORT); unset discovers them through cluster membership.'),
  strategy: oneOf('BALANCE_STRATEGY', ['least-connections', 'round-robin', 'weighted-response-time'] as const, 'least-connections', 'How the balancer picks a backend.'),
  adminPort: port('BALANCER_ADMIN_PORT', 9470, 'HTTP admin port of the balancer (backends, drain, strategy; JSON); 0 picks a free port.'),
  adminHost: text('BALANCER_ADMIN_HOST', '127.0.0.1', 'Address the balancer\'s admin interface listens on.'),
  adminToken: text('BALANCER_ADMIN_TOKEN', undefined, 'Secret every admin request must present as `Authorization: Bearer <token>` (at least 16 characters); unset disables the admin interface (every request answered 401).', /^\S{16,256}$/),
  healthCheckMode: oneOf('HEALTH_CHECK_MODE', ['ping', 'tcp'] as const, 'ping', 'Health check: a protocol PING answered by PONG, or a bare TCP connect.'),
  healthCheckIntervalMs: integer('HEALTH_CHECK_INTERVAL_MS', 2000, 'Time between two health checks of one backend.', { min: 10 }),
  healthCheckTimeoutMs: integer('HEALTH_CHECK_TIMEOUT_MS', 1000, 'A health check not answered within this time failed.', { min: 1 }),
  healthCheckRise: integer('HEALTH_CHECK_RISE', 2, 'Consecutive successful checks that bring a backend up (HAProxy `rise`).', { min: 1 }),
  healthCheckFall: integer('HEALTH_CHECK_FALL', 3, 'Consecutive failed checks that take a backend down (HAProxy `fall`).', { min: 1 }),
  backendConnectTimeoutMs: integer('BACKEND_CONNECT_TIMEOUT_MS', 2000, 'Connect timeout towards a backend; on failure another backend is tried.', { min: 1 }),
  sendProxyHeader: boolean('BALANCER_SEND_PROXY_HEADER', false, 'Start every backend connection with a PROXY protocol v1 line naming the client, for game servers with TRUST_PROXY_HEADER (the game port) and, when BALANCER_WS_PORT is set, WS_TRUST_PROXY_HEADER (the WebSocket front\'s connections).'),
  backendResponseTimeoutMs: integer('BACKEND_RESPONSE_TIMEOUT_MS', 1000, 'After connecting, the balancer sends the backend a PING of its own and waits this long for the PONG before it hands the client over; a backend that accepts but does not answer (hung, SIGSTOPped) counts as a failed connect and another is tried (0 disables; off with HEALTH_CHECK_MODE=tcp, whose backends need not speak the game protocol).', { min: 0 }),
  maxConnectionsPerAddress: integer('BALANCER_MAX_CONNECTIONS_PER_ADDRESS', 256, 'Client connections the balancer accepts from one IP address; the next gets TOO_MANY_CONNECTIONS and is closed (0 disables). Higher than the servers\' MAX_CONNECTIONS_PER_ADDRESS default: a load generator or a NAT gateway is one address.', { min: 0 }),
  backendConnectRetries: integer('BACKEND_CONNECT_RETRIES', 2, 'Other backends tried after a failed connect before the client gets NO_BACKEND.', { min: 0 }),
  proxyIdleTimeoutMs: integer('PROXY_IDLE_TIMEOUT_MS', 300000, 'Close a proxied session with no traffic in either direction for this long (0 disables).', { min: 0 }),
  drainDeadlineMs: integer('DRAIN_DEADLINE_MS', 30000, 'Draining a backend: sessions still open after this long are cut.', { min: 0 }),
  connectionWeightMs: decimal('WRT_CONNECTION_WEIGHT_MS', 10, 'weighted-response-time: milliseconds added to a backend\'s EWMA latency per open connection.', { min: 0 }),
  latencyEwmaAlpha: decimal('LATENCY_EWMA_ALPHA', 0.1, 'Smoothing factor of the EWMA of backend latency (health-check round trips).', { min: 0.001, max: 1 }),
  bottleneckUrlTemplate: text('BOTTLENECK_URL_TEMPLATE', undefined, 'Optional URL polled per backend for active bottlenecks, e.g. `http://{host}:9464/bottlenecks` (`{host}`, `{port}` substituted); unset disables.'),
  bottleneckPollMs: integer('BOTTLENECK_POLL_MS', 5000, 'How often the bottleneck URL of each backend is polled.', { min: 100 }),
  bottleneckWeightFactor: decimal('BOTTLENECK_WEIGHT_FACTOR', 0.25, 'Weight multiplier of a backend that reports an active bottleneck (it gets that share of new traffic).', { min: 0.01, max: 1 }),
} as const
