/**
 * Node flags every game server process runs with — in the container (after the image's
 * `node --enable-source-maps`), in the local appliance, under `npm run serve` and in the benches.
 *
 * `--max-semi-space-size=1` (MB): module loading at start-up grows V8's young generation to its
 * 16 MB maximum, and it stays there; every scavenge of it then sweeps ~0.7 s worth of socket-read
 * ArrayBuffers and pauses the event loop ~1.5 ms. Capped at 1 MB (what a small Node server like the
 * bench's coalescing reference runs with anyway) the scavenges come every ~45 ms and pause
 * ~0.3 ms: more, shorter pauses (GC CPU +0.4 % of a core at 10k PONG/s), so a PING that meets one
 * waits far less. Measured with `bench/hot-path.bench.ts` (BENCHMARKS.md, "young generation"):
 * p99 at 100 × 1 and 100 PINGs/s each 1.67 → 1.31 ms (medians of 12 rounds), no measurable change
 * in throughput at 100 × 16 or 1,000 × 1.
 */
export const GAME_SERVER_NODE_FLAGS: readonly string[] = Object.freeze(['--max-semi-space-size=1'])
