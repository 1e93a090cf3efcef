import { isUnifeedError, type FeedPlugin, type Venue } from '@unifeed/core';
import { describe, expect, it } from 'vitest';
import {
  aggTrade,
  allBookTickers,
  allMarkPrices,
  allMiniTickers,
  allTickers,
  bookTicker,
  markPrice,
  miniTicker,
  ticker,
  trade,
} from '../src/index.js';
import * as F from './fixtures.js';

const { spot, usdm } = F;

function parse<E>(plugin: FeedPlugin<never, E>, text: string, stream: string, venue: Venue): E {
  return plugin.parse(JSON.parse(text), stream, venue);
}

function parseError(fn: () => unknown): {
  code: string;
  message: string;
  stream: string | undefined;
} {
  try {
    fn();
  } catch (err) {
    if (!isUnifeedError(err)) throw err;
    return { code: err.code, message: err.message, stream: err.stream };
  }
  throw new Error('did not throw');
}

describe('parsers against the protocol.md examples', () => {
  it('spot bookTicker: no e/E, so no event time', () => {
    const raw = JSON.parse(F.SPOT_BOOK_TICKER) as unknown;
    expect(bookTicker.parse(raw, 'bnbusdt@bookTicker', spot)).toEqual({
      type: 'bookTicker',
      venue: 'binance-spot',
      stream: 'bnbusdt@bookTicker',
      symbol: 'BNBUSDT',
      updateId: 400900217,
      eventTime: undefined,
      transactionTime: undefined,
      bidPrice: '25.35190000',
      bidQty: '31.21000000',
      askPrice: '25.36520000',
      askQty: '40.66000000',
      raw,
    });
  });

  it('futures bookTicker: event and transaction time', () => {
    const e = parse(bookTicker, F.USDM_BOOK_TICKER, 'bnbusdt@bookTicker', usdm);
    expect(e).toMatchObject({
      venue: 'binance-usdm',
      updateId: 400900217,
      eventTime: 1568014460893,
      transactionTime: 1568014460891,
      bidPrice: '25.35190000',
      askQty: '40.66000000',
    });
  });

  it("futures !bookTicker: each message one symbol's bookTicker, named by its symbol", () => {
    const e = parse(allBookTickers, F.USDM_BOOK_TICKER, '!bookTicker', usdm);
    expect(e).toMatchObject({
      type: 'bookTicker',
      venue: 'binance-usdm',
      stream: '!bookTicker',
      symbol: 'BNBUSDT',
      updateId: 400900217,
      bidPrice: '25.35190000',
    });
  });

  it('spot aggTrade and trade', () => {
    expect(parse(aggTrade, F.SPOT_AGG_TRADE, 'bnbbtc@aggTrade', spot)).toEqual({
      type: 'aggTrade',
      venue: 'binance-spot',
      stream: 'bnbbtc@aggTrade',
      symbol: 'BNBBTC',
      eventTime: 1672515782136,
      aggTradeId: 12345,
      price: '0.001',
      qty: '100',
      nonRpiQty: undefined,
      firstTradeId: 100,
      lastTradeId: 105,
      tradeTime: 1672515782136,
      isBuyerMaker: true,
      isBestMatch: true,
      raw: JSON.parse(F.SPOT_AGG_TRADE),
    });
    expect(parse(trade, F.SPOT_TRADE, 'bnbbtc@trade', spot)).toMatchObject({
      type: 'trade',
      tradeId: 12345,
      price: '0.001',
      qty: '100',
      tradeTime: 1672515782136,
      isBuyerMaker: true,
      isBestMatch: true,
    });
  });

  it('futures aggTrade: nq, no M', () => {
    expect(parse(aggTrade, F.USDM_AGG_TRADE, 'bnbbtc@aggTrade', usdm)).toMatchObject({
      nonRpiQty: '100',
      isBestMatch: undefined,
      aggTradeId: 12345,
    });
  });

  it('spot and futures ticker; miniTicker', () => {
    expect(parse(ticker, F.SPOT_TICKER, 'bnbbtc@ticker', spot)).toEqual({
      type: 'ticker',
      venue: 'binance-spot',
      stream: 'bnbbtc@ticker',
      symbol: 'BNBBTC',
      eventTime: 1672515782136,
      open: '0.0010',
      high: '0.0025',
      low: '0.0010',
      close: '0.0025',
      volume: '10000',
      quoteVolume: '18',
      priceChange: '0.0015',
      priceChangePercent: '250.00',
      weightedAvgPrice: '0.0018',
      prevClosePrice: '0.0009',
      lastQty: '10',
      bidPrice: '0.0024',
      bidQty: '10',
      askPrice: '0.0026',
      askQty: '100',
      openTime: 0,
      closeTime: 86400000,
      firstTradeId: 0,
      lastTradeId: 18150,
      trades: 18151,
      raw: JSON.parse(F.SPOT_TICKER),
    });
    // Found in review: a spot ticker without its top of book passed as one with no bid.
    for (const key of ['x', 'b', 'B', 'a', 'A']) {
      const broken = F.SPOT_TICKER.replace(new RegExp(`"${key}":"[^"]*",`), '');
      expect(() => parse(ticker, broken, 'bnbbtc@ticker', spot), key).toThrow(`'${key}'`);
    }
    expect(parse(ticker, F.USDM_TICKER, 'bnbbtc@ticker', usdm)).toMatchObject({
      prevClosePrice: undefined,
      bidPrice: undefined,
      bidQty: undefined,
      askPrice: undefined,
      askQty: undefined,
      close: '0.0025',
      trades: 18151,
    });
    expect(parse(miniTicker, F.SPOT_MINI_TICKER, 'bnbbtc@miniTicker', spot)).toEqual({
      type: 'miniTicker',
      venue: 'binance-spot',
      stream: 'bnbbtc@miniTicker',
      symbol: 'BNBBTC',
      eventTime: 1672515782136,
      open: '0.0010',
      high: '0.0025',
      low: '0.0010',
      close: '0.0025',
      volume: '10000',
      quoteVolume: '18',
      raw: JSON.parse(F.SPOT_MINI_TICKER),
    });
  });

  it('futures markPrice', () => {
    expect(parse(markPrice, F.USDM_MARK_PRICE, 'btcusdt@markPrice', usdm)).toEqual({
      type: 'markPrice',
      venue: 'binance-usdm',
      stream: 'btcusdt@markPrice',
      symbol: 'BTCUSDT',
      eventTime: 1562305380000,
      markPrice: '11794.15000000',
      markPriceAvg: '11794.15000000',
      indexPrice: '11784.62659091',
      estimatedSettlePrice: '11784.25641265',
      fundingRate: '0.00038167',
      nextFundingTime: 1562306400000,
      raw: JSON.parse(F.USDM_MARK_PRICE),
    });
  });

  it('all-market arrays: one event per element, raw per element', () => {
    const arr = `[${F.SPOT_MINI_TICKER},${F.SPOT_MINI_TICKER.replace('BNBBTC', 'ETHBTC')}]`;
    const events = parse(allMiniTickers, arr, '!miniTicker@arr', spot);
    expect(events.map((e) => [e.symbol, e.stream, e.type])).toEqual([
      ['BNBBTC', '!miniTicker@arr', 'miniTicker'],
      ['ETHBTC', '!miniTicker@arr', 'miniTicker'],
    ]);
    expect(events[1]!.raw).toEqual(JSON.parse(arr)[1]);
    expect(parse(allTickers, `[${F.SPOT_TICKER}]`, '!ticker@arr', spot)).toHaveLength(1);
    expect(parse(allMarkPrices, `[${F.USDM_MARK_PRICE}]`, '!markPrice@arr', usdm)).toHaveLength(1);
    expect(parse(allMiniTickers, '[]', '!miniTicker@arr', spot)).toEqual([]);
  });

  it('one bad element rejects the whole array frame', () => {
    const arr = `[${F.SPOT_MINI_TICKER},{"e":"24hrMiniTicker","s":"X"}]`;
    expect(parseError(() => parse(allMiniTickers, arr, '!miniTicker@arr', spot)).code).toBe(
      'UNIFEED_PARSE',
    );
    expect(
      parseError(() => parse(allMiniTickers, F.SPOT_MINI_TICKER, '!miniTicker@arr', spot)).message,
    ).toMatch(/not an array/);
  });
});

describe('tolerance and strictness', () => {
  it('E as a numeric string is read as a number; unknown fields are ignored', () => {
    const p = { ...JSON.parse(F.USDM_MARK_PRICE), E: '1562305380000', zz: { new: 1 } };
    const e = markPrice.parse(p, 'btcusdt@markPrice', usdm);
    expect(e.eventTime).toBe(1562305380000);
  });

  it('missing optional fields are undefined: markPrice without ap, r empty', () => {
    const { ap: _ap, ...rest } = JSON.parse(F.USDM_MARK_PRICE) as Record<string, unknown>;
    const e = markPrice.parse({ ...rest, r: '' }, 'btcusdt@markPrice', usdm);
    expect(e.markPriceAvg).toBeUndefined();
    expect(e.fundingRate).toBeUndefined();
  });

  it.each([
    ['missing price', { p: undefined }, "field 'p'"],
    ['number price', { p: 0.001 }, "field 'p'"],
    ['not a decimal', { p: '1e-3' }, "field 'p'"],
    ['fractional id', { a: 1.5 }, "field 'a'"],
    ['string maker flag', { m: 'true' }, "field 'm'"],
    ['other event type', { e: 'trade' }, "field 'e'"],
    ['missing symbol', { s: undefined }, "field 's'"],
  ])('%s is UNIFEED_PARSE naming the field and stream', (_name, patch, field) => {
    const p = { ...JSON.parse(F.SPOT_AGG_TRADE), ...patch };
    const err = parseError(() => aggTrade.parse(p, 'bnbbtc@aggTrade', spot));
    expect(err.code).toBe('UNIFEED_PARSE');
    expect(err.stream).toBe('bnbbtc@aggTrade');
    expect(err.message).toContain(field);
  });

  it("refuses a payload of another symbol than the stream's, on every per-symbol stream", () => {
    const cases: [FeedPlugin<never, unknown>, string, string, Venue][] = [
      [bookTicker, F.SPOT_BOOK_TICKER, 'bnbusdt@bookTicker', spot],
      [bookTicker, F.USDM_BOOK_TICKER, 'bnbusdt@bookTicker', usdm],
      [ticker, F.SPOT_TICKER, 'bnbbtc@ticker', spot],
      [miniTicker, F.SPOT_MINI_TICKER, 'bnbbtc@miniTicker', spot],
      [markPrice, F.USDM_MARK_PRICE, 'btcusdt@markPrice@1s', usdm],
      [aggTrade, F.SPOT_AGG_TRADE, 'bnbbtc@aggTrade', spot],
      [trade, F.SPOT_TRADE, 'bnbbtc@trade', spot],
    ];
    for (const [plugin, text, stream, venue] of cases) {
      // The stream's own symbol, lower case in the name and upper case in the payload, passes.
      expect(() => parse(plugin, text, stream, venue), stream).not.toThrow();
      const other = text.replace(/"s":"[A-Z]+"/, '"s":"ETHUSDT"');
      const err = parseError(() => parse(plugin, other, stream, venue));
      expect([stream, err.code, err.stream, err.message]).toEqual([
        stream,
        'UNIFEED_PARSE',
        stream,
        expect.stringContaining("field 's'"),
      ]);
    }
    // Streams of every symbol carry every symbol.
    const eth = F.USDM_BOOK_TICKER.replace('BNBUSDT', 'ETHUSDT');
    expect(parse(allBookTickers, eth, '!bookTicker', usdm).symbol).toBe('ETHUSDT');
    const arr = `[${F.SPOT_TICKER},${F.SPOT_TICKER.replace('BNBBTC', 'ETHBTC')}]`;
    expect(parse(allTickers, arr, '!ticker@arr', spot).map((e) => e.symbol)).toEqual([
      'BNBBTC',
      'ETHBTC',
    ]);
  });

  it('the error message never embeds the payload', () => {
    const huge = { ...JSON.parse(F.SPOT_BOOK_TICKER), b: 'x'.repeat(2_000_000) };
    const err = parseError(() => bookTicker.parse(huge, 'bnbusdt@bookTicker', spot));
    expect(err.message.length).toBeLessThan(200);
    const notObject = parseError(() => bookTicker.parse('x'.repeat(1e6), 's@bookTicker', spot));
    expect(notObject.message.length).toBeLessThan(200);
  });
});

describe('stream names, venues and cadence', () => {
  it('names streams with lower-case symbols, only the symbol lower-cased', () => {
    expect(bookTicker.streams({ symbols: ['BTCUSDT', 'ethusdt'] }, spot)).toEqual([
      'btcusdt@bookTicker',
      'ethusdt@bookTicker',
    ]);
    expect(markPrice.streams({ symbols: ['BTCUSDT'] }, usdm)).toEqual(['btcusdt@markPrice']);
    expect(markPrice.streams({ symbols: ['BTCUSDT'], speed: '1s' }, usdm)).toEqual([
      'btcusdt@markPrice@1s',
    ]);
    expect(allMarkPrices.streams({ speed: '1s' }, usdm)).toEqual(['!markPrice@arr@1s']);
    expect(allMiniTickers.streams({}, spot)).toEqual(['!miniTicker@arr']);
    expect(allTickers.streams({}, usdm)).toEqual(['!ticker@arr']);
    expect(allBookTickers.streams({}, usdm)).toEqual(['!bookTicker']);
  });

  it.each([
    ['futures trade', () => trade.streams({ symbols: ['btcusdt'] }, usdm)],
    ['spot markPrice', () => markPrice.streams({ symbols: ['btcusdt'] }, spot)],
    ['spot !markPrice@arr', () => allMarkPrices.streams({}, spot)],
    ['spot !bookTicker', () => allBookTickers.streams({}, spot)],
    ['a symbol with @', () => ticker.streams({ symbols: ['btc@usdt'] }, spot)],
    ['a symbol with /', () => ticker.streams({ symbols: ['btc/usdt'] }, spot)],
    ['an empty symbol', () => ticker.streams({ symbols: [''] }, spot)],
    ['a bad speed', () => markPrice.streams({ symbols: ['x'], speed: '2s' as '1s' }, usdm)],
    ['an unknown venue', () => ticker.streams({ symbols: ['x'] }, { ...spot, name: 'okx' })],
  ])('%s is UNIFEED_INVALID_STREAM at streams()', (_name, fn) => {
    expect(parseError(fn).code).toBe('UNIFEED_INVALID_STREAM');
  });

  it('no symbols is UNIFEED_INVALID_OPTION', () => {
    expect(parseError(() => ticker.streams({ symbols: [] }, spot)).code).toBe(
      'UNIFEED_INVALID_OPTION',
    );
  });

  it('cadence only for fixed-cadence streams', () => {
    expect(ticker.cadenceMs?.('btcusdt@ticker', spot)).toBe(1000);
    expect(ticker.cadenceMs?.('btcusdt@ticker', usdm)).toBe(2000);
    expect(miniTicker.cadenceMs?.('btcusdt@miniTicker', spot)).toBe(1000);
    expect(miniTicker.cadenceMs?.('btcusdt@miniTicker', usdm)).toBe(2000);
    expect(markPrice.cadenceMs?.('btcusdt@markPrice', usdm)).toBe(3000);
    expect(markPrice.cadenceMs?.('btcusdt@markPrice@1s', usdm)).toBe(1000);
    expect(allMarkPrices.cadenceMs?.('!markPrice@arr@1s', usdm)).toBe(1000);
    expect(allMiniTickers.cadenceMs?.('!miniTicker@arr', spot)).toBe(1000);
    expect(bookTicker.cadenceMs?.('btcusdt@bookTicker', spot)).toBeUndefined();
    expect(allBookTickers.cadenceMs?.('!bookTicker', usdm)).toBeUndefined();
    expect(aggTrade.cadenceMs?.('btcusdt@aggTrade', usdm)).toBeUndefined();
    expect(trade.cadenceMs?.('btcusdt@trade', spot)).toBeUndefined();
  });
});
