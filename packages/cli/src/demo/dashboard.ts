import type { DemoSnapshot, DemoSummary } from './snapshot.js';

const n = (x: number, digits = 0): string =>
  x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  const pad = (x: number) => String(x).padStart(2, '0');
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

/** A progress bar for the subscribe phase. */
export function progressBar(done: number, total: number, width = 30): string {
  const share = total === 0 ? 1 : Math.min(1, done / total);
  const filled = Math.round(share * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${n(done)}/${n(total)} streams delivering`;
}

function faultLine(f: DemoSnapshot['faults'][number]): string {
  const outcome =
    f.recoveredMs === undefined
      ? 'recovering...'
      : f.recoveredMs === null
        ? 'NOT RECOVERED'
        : `recovered in ${n(f.recoveredMs / 1000, 1)} s`;
  return `  [${clock(f.at)}] ${f.kind}: ${f.detail} -> ${outcome}`;
}

/** The full-screen dashboard, redrawn every second on a terminal. */
export function renderDashboard(s: DemoSnapshot): string {
  const perConn = s.connections.map((c) =>
    c.state === 'open' ? String(c.streams) : `${c.streams}!`,
  );
  const lines = [
    `unifeed demo  ${s.venue} simulator at ${s.wsUrl}  up ${clock(s.elapsedMs)}  (Ctrl-C to stop)`,
    '',
    s.phase === 'subscribing'
      ? `subscribing ${progressBar(s.klineStreamsDelivered, s.klineStreams)}`
      : `kline streams ${n(s.klineStreams)} on ${s.klineConnections} connections; ${n(s.streams)} streams in all`,
    `connections ${s.connections.length} (open ${s.connections.filter((c) => c.state === 'open').length}); streams per connection ${perConn.join(' ')}`,
    `messages/s ${n(s.messagesPerSecond)}   lag p50 ${n(s.lagP50Ms, 1)} ms  p99 ${n(s.lagP99Ms, 1)} ms   queue ${n(s.queue.depth)} (max ${n(s.queue.maxDepth)}) drops ${n(s.queue.dropped)}`,
    `reconnects ${s.reconnects}  gaps ${s.gaps}  rotations ${s.rotations}  stale ${s.staleResubscribes}  parse errors ${s.parseErrors}`,
    '',
    'order books',
    ...s.books.map(
      (b) =>
        `  ${b.symbol.padEnd(10)} ${b.state.padEnd(9)} bid ${b.bid.padStart(12)}  ask ${b.ask.padStart(12)}  resyncs ${b.resyncs}`,
    ),
    `account  ${s.account.state}  orders ${s.account.orders}  listen-key renewals ${s.account.listenKeyRenewals}`,
    '',
    'latest closed candles',
    ...(s.candles.length === 0 ? ['  (none yet)'] : s.candles.map((c) => `  ${c}`)),
    '',
    'faults',
    ...(s.faults.length === 0 ? ['  (none yet)'] : s.faults.slice(-6).map(faultLine)),
    '',
    ...healthLines(s.health),
  ];
  return `${lines.join('\n')}\n`;
}

/** The health report: its status over the last minute, and the anomalies that make it so. */
function healthLines(h: DemoSnapshot['health'], most = 5): string[] {
  const more = h.anomalies.length - most;
  return [
    `health ${h.status}`,
    ...h.anomalies.slice(0, most).map((a) => `  ${a}`),
    ...(more > 0 ? [`  (${more} more)`] : []),
  ];
}

/** One line per interval when stderr is not a terminal. */
export function summaryLine(s: DemoSnapshot): string {
  return (
    `[${clock(s.elapsedMs)}] ${s.phase} connections ${s.connections.length} streams ${n(s.streams)} ` +
    `klines ${n(s.klineStreamsDelivered)}/${n(s.klineStreams)} msg/s ${n(s.messagesPerSecond)} ` +
    `lag p99 ${n(s.lagP99Ms, 1)} ms queue ${s.queue.depth} drops ${s.queue.dropped} ` +
    `reconnects ${s.reconnects} gaps ${s.gaps} books ${s.books.map((b) => b.state).join(',')} ` +
    `faults ${s.faultTotals.recovered}/${s.faultTotals.injected} recovered health ${s.health.status}\n`
  );
}

export function toSummary(s: DemoSnapshot, messages: number): DemoSummary {
  return {
    seconds: Math.round(s.elapsedMs / 1000),
    klineStreams: s.klineStreams,
    klineStreamsDelivered: s.klineStreamsDelivered,
    klineConnections: s.klineConnections,
    connections: s.connections.length,
    streams: s.streams,
    messages,
    faults: s.faults.map((f) => ({
      kind: f.kind,
      atSeconds: Math.round(f.at / 1000),
      detail: f.detail,
      recoveredMs: f.recoveredMs ?? null,
      pending: f.recoveredMs === undefined,
    })),
    faultsInjected: s.faultTotals.injected,
    faultsRecovered: s.faultTotals.recovered,
    slowestRecoveryMs: s.faultTotals.slowestRecoveryMs,
    allFaultsRecovered: s.faultTotals.recovered === s.faultTotals.injected,
    faultsLost: s.faultTotals.lost,
    duplicateSubscriptions: { ...s.duplicates, rotations: s.rotations },
    books: s.books.map((b) => ({ symbol: b.symbol, state: b.state, resyncs: b.resyncs })),
    account: s.account,
    health: s.health,
  };
}

/** One line for the faults too old to be listed, so that a long run's summary stays short. */
function earlierFaults(x: DemoSummary): string[] {
  const earlier = x.faultsInjected - x.faults.length;
  if (earlier <= 0) return [];
  const listedRecovered = x.faults.filter((f) => f.recoveredMs !== null).length;
  const listedLost = x.faults.filter((f) => f.recoveredMs === null && !f.pending).length;
  const recovered = x.faultsRecovered - listedRecovered;
  const lost = x.faultsLost - listedLost;
  // Only after Ctrl-C, and only when more faults were pending than are listed.
  const pending = earlier - recovered - lost;
  const outcomes = [
    `${n(recovered)} recovered`,
    ...(lost > 0 ? [`${n(lost)} NOT RECOVERED`] : []),
    ...(pending > 0 ? [`${n(pending)} still recovering when stopped`] : []),
  ];
  const slowest =
    x.slowestRecoveryMs === null
      ? ''
      : `; slowest recovery of all ${n(x.slowestRecoveryMs / 1000, 1)} s`;
  return [`    ${n(earlier)} earlier faults not listed: ${outcomes.join(', ')}${slowest}`];
}

/** The closing summary for people. */
export function renderSummary(x: DemoSummary): string {
  const lines = [
    `unifeed demo ran ${x.seconds} s`,
    `  ${n(x.klineStreams)} kline streams on ${x.klineConnections} connections (${n(x.klineStreamsDelivered)} delivered); ${x.connections} connections, ${n(x.streams)} streams, ${n(x.messages)} messages`,
    `  faults injected ${x.faultsInjected}, recovered ${x.faultsRecovered}${x.allFaultsRecovered ? ' (all)' : ''}`,
    ...earlierFaults(x),
    ...x.faults.map(
      (f) =>
        `    ${f.kind} at ${f.atSeconds} s: ${f.pending ? 'still recovering when stopped' : f.recoveredMs === null ? 'NOT RECOVERED' : `recovered in ${n(f.recoveredMs / 1000, 1)} s`}`,
    ),
    `  duplicate subscriptions: ${x.duplicateSubscriptions.sameConnection} on one connection, ${x.duplicateSubscriptions.acrossConnections} across connections (${x.duplicateSubscriptions.rotations} make-before-break rotations)`,
    `  books ${x.books.map((b) => `${b.symbol} ${b.state} (${b.resyncs} resyncs)`).join(', ')}`,
    `  account ${x.account.state}, ${x.account.orders} order updates, ${x.account.listenKeyRenewals} listen-key renewals`,
    ...healthLines(x.health).map((l) => `  ${l}`),
  ];
  return `${lines.join('\n')}\n`;
}
