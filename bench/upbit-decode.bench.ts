/**
 * The cost of reading Upbit's numbers exactly: `upbit().decode` (a scan of the text for a run
 * of 16 digits, and for frames with one a pass that quotes such numbers) against plain
 * `JSON.parse`, on Upbit-shaped ticker, orderbook and trade frames, alternating the two in
 * rounds within one process.
 *
 *   npx -y pnpm@10 bench:upbit-decode [--rounds 7] [--frames 100000]
 *
 * Prints per frame kind the median ns per frame of each and their ratio.
 */
import { parseArgs } from 'node:util';
import { upbit } from '@unifeed/core';
import { fmt, median, num } from './support.js';

// As Upbit writes them (DEFAULT format): decimals as JSON numbers. A KRW-BTC day's turnover
// has 8 decimals past some 11 digits: past what a double holds.
const TICKER =
  '{"type":"ticker","code":"KRW-BTC","opening_price":140000000,"high_price":141500000,' +
  '"low_price":138200000,"trade_price":139000000,"prev_closing_price":140500000,"change":"FALL",' +
  '"change_price":1500000,"signed_change_price":-1500000,"change_rate":0.0106761566,' +
  '"signed_change_rate":-0.0106761566,"trade_volume":0.00012345,"acc_trade_volume":1234.56789012,' +
  '"acc_trade_volume_24h":2345.60123456,"acc_trade_price":171234567890.12345678,' +
  '"acc_trade_price_24h":321234567890.50123456,"trade_date":"20260105","trade_time":"031500",' +
  '"trade_timestamp":1767582900000,"ask_bid":"BID","acc_ask_volume":600.1,' +
  '"acc_bid_volume":634.46789012,"highest_52_week_price":160000000,' +
  '"highest_52_week_date":"2025-10-06","lowest_52_week_price":90000000,' +
  '"lowest_52_week_date":"2025-04-07","market_state":"ACTIVE","is_trading_suspended":false,' +
  '"delisting_date":null,"market_warning":"NONE","timestamp":1767582900123,"stream_type":"REALTIME"}';

const ORDERBOOK = JSON.stringify({
  type: 'orderbook',
  code: 'KRW-BTC',
  timestamp: 1767582900123,
  total_ask_size: 4.79158413,
  total_bid_size: 2.65609625,
  orderbook_units: Array.from({ length: 15 }, (_, i) => ({
    ask_price: 139_001_000 + i * 1000,
    bid_price: 139_000_000 - i * 1000,
    ask_size: 0.01234567 + i,
    bid_size: 0.7654321 + i,
  })),
  level: 0,
  stream_type: 'REALTIME',
});

const TRADE =
  '{"type":"trade","code":"KRW-BTC","timestamp":1767582900123,"trade_date":"2026-01-05",' +
  '"trade_time":"03:15:00","trade_timestamp":1767582900000,"trade_price":139000000,' +
  '"trade_volume":0.00012345,"ask_bid":"BID","prev_closing_price":140500000,"change":"FALL",' +
  '"change_price":1500000,"sequential_id":17675829000000001,"best_ask_price":139001000,' +
  '"best_ask_size":0.5,"best_bid_price":139000000,"best_bid_size":0.25,"stream_type":"REALTIME"}';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '7' },
    frames: { type: 'string', default: '100000' },
  },
});
const rounds = Math.round(num('rounds', values.rounds, 1));
const frames = Math.round(num('frames', values.frames, 1000));
const decode = upbit().decode!;

/** ns per frame of `read` over `frames` frames; the result is kept so nothing is optimised away. */
function time(read: (text: string) => unknown, text: string): number {
  let kept: unknown;
  const start = process.hrtime.bigint();
  for (let i = 0; i < frames; i++) kept = read(text);
  const ns = Number(process.hrtime.bigint() - start) / frames;
  if (kept === undefined) throw new Error('nothing read');
  return ns;
}

console.log(`upbit-decode: ${rounds} rounds of ${frames} frames per kind, alternating`);
for (const [kind, text] of [
  ['ticker', TICKER],
  ['orderbook', ORDERBOOK],
  ['trade', TRADE],
] as const) {
  const plain: number[] = [];
  const exact: number[] = [];
  time(JSON.parse, text); // warm-up of both paths
  time(decode, text);
  for (let r = 0; r < rounds; r++) {
    plain.push(time(JSON.parse, text));
    exact.push(time(decode, text));
  }
  const [p, e] = [median(plain), median(exact)];
  console.log(
    `${kind.padEnd(9)} ${String(text.length).padStart(5)} B: JSON.parse ${fmt(p)} ns, ` +
      `decode ${fmt(e)} ns, ratio ${(e / p).toFixed(2)}`,
  );
}
