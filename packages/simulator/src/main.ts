import { startSimulator } from './simulator.js';
import type { VenueId } from './venue.js';

/**
 * `pnpm sim [--venue binance-spot|binance-usdm|upbit] [--port N] [--symbols N] [--seed N] [--speed N]`:
 * run a simulator standalone and print its URLs.
 */
function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

function num(name: string): number | undefined {
  const v = arg(name);
  return v === undefined ? undefined : Number(v);
}

const venue = (arg('venue') ?? 'binance-usdm') as VenueId;
const sim = await startSimulator({
  venue,
  port: num('port') ?? 0,
  host: arg('host') ?? '127.0.0.1',
  symbols: num('symbols'),
  seed: num('seed'),
  speed: num('speed'),
});
process.stdout.write(
  `unifeed simulator (${venue})\n  wsUrl:   ${sim.wsUrl}\n  restUrl: ${sim.restUrl}\n` +
    (venue === 'binance-usdm'
      ? `  try:     ${sim.wsUrl}/market/stream?streams=btcusdt@kline_1m\n`
      : venue === 'upbit'
        ? `  try:     ${sim.wsUrl}/websocket/v1 with [{"ticket":"t"},{"type":"ticker","codes":["KRW-BTC"]}]\n`
        : `  try:     ${sim.wsUrl}/stream?streams=btcusdt@kline_1m\n`),
);
const stop = (): void => {
  void sim.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
