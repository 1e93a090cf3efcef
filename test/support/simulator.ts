import { get } from 'node:http';
import type { Simulator } from '@unifeed/simulator';

/**
 * The first `n` symbols of the simulator's market as the exchange names them (`BTCUSDT`), from
 * its exchangeInfo. Fetched without keep-alive, so no idle HTTP socket lingers into the
 * resource counts of leak checks.
 */
export async function simulatorSymbols(s: Simulator, n: number): Promise<string[]> {
  const path = s.venue.futures ? '/fapi/v1/exchangeInfo' : '/api/v3/exchangeInfo';
  const body = await new Promise<string>((resolve, reject) => {
    get(`${s.restUrl}${path}`, { agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve(text));
    }).on('error', reject);
  });
  return (JSON.parse(body) as { symbols: { symbol: string }[] }).symbols
    .slice(0, n)
    .map((x) => x.symbol);
}
