import type { ResourceSample } from './checks/growth.js';

/** What the sampler reads; each a function so that a test can fake it. */
export interface ResourceSources {
  /** Sockets the simulator has open (one per client connection). */
  serverSockets(): number;
  /** Timers alive on the library's clock. */
  clockTimers(): number;
  /** Subscribers and listeners the process holds (pool subscribers, process listeners). */
  listeners(): number;
  /** Kinds of handles Node keeps alive (`process.getActiveResourcesInfo()`). */
  activeResources(): readonly string[];
  /** Heap in use; after a full collection where `global.gc` is exposed. */
  heapUsed(): number;
}

/** The resources sampled, and the growth allowed from the first fifth to the last. */
export const GROWTH_BOUNDS = {
  /**
   * Server-side sockets: one per connection. Two allow a rotation's replacement and a
   * reconnect in flight at the same moment; a leak of one socket per fault outgrows it within
   * a minute.
   */
  serverSockets: 2,
  /**
   * TCP handles in the process (both ends of every socket live here, plus REST keep-alive):
   * the same two connections twice over, and two REST sockets.
   */
  tcpHandles: 6,
  /** Node timer handles (the simulator's and the library's). */
  nodeTimers: 40,
  /**
   * Timers on the library's clock: one pool tick, one heartbeat and one lifetime timer per
   * connection, pumps, books' retries; 20 covers a few connections in back-off or rotation at
   * the sample. One leaked timer per fault outgrows it in two minutes.
   */
  clockTimers: 20,
  /** Subscribers and process listeners: fixed by the scenario; any growth is a leak. */
  listeners: 2,
  /**
   * Heap after a full collection (simulator included: it runs in-process), about 32 MiB steady
   * with 3,241 streams: half of it again. Warm-up leftovers (candle history, JIT) account for
   * the 4 to 5 MiB a 2-minute run shows; a leak of 10 bytes per message outgrows it within 30
   * minutes at 12,000 messages a second.
   */
  heapMiB: 16,
} as const;

/** One sample of every resource. */
export function sampleResources(s: ResourceSources): ResourceSample {
  let tcp = 0;
  let timers = 0;
  for (const kind of s.activeResources()) {
    if (kind === 'TCPSocketWrap' || kind === 'TCPWrap') tcp++;
    else if (kind === 'Timeout') timers++;
  }
  return {
    serverSockets: s.serverSockets(),
    tcpHandles: tcp,
    nodeTimers: timers,
    clockTimers: s.clockTimers(),
    listeners: s.listeners(),
    heapMiB: Math.round((s.heapUsed() / 1048576) * 10) / 10,
  };
}
