import { ErrorCode, isUnifeedError } from '@unifeed/core';
import { describe, expect, it } from 'vitest';
import {
  parseFuturesEvent,
  parseLossless,
  parseSpotEvent,
  type FuturesAccountEvent,
  type SpotAccountEvent,
} from '../src/index.js';
import * as fx from './fixtures.js';

const futures = (text: string) => parseFuturesEvent(parseLossless(text));
const spot = (text: string) => parseSpotEvent(parseLossless(text));

function parseErrorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isUnifeedError(err)) return `${err.code} ${err.message}`;
    throw err;
  }
  return 'no error';
}

/** Narrow an event union by its `type`, or fail the test. */
function as<T extends { type: string }, K extends T['type']>(
  e: T,
  type: K,
): Extract<T, { type: K }> {
  expect(e.type).toBe(type);
  return e as Extract<T, { type: K }>;
}

describe('parseFuturesEvent', () => {
  it('maps ACCOUNT_UPDATE (protocol.md) field by field', () => {
    const e = as<FuturesAccountEvent, 'ACCOUNT_UPDATE'>(
      futures(fx.ACCOUNT_UPDATE),
      'ACCOUNT_UPDATE',
    );
    expect(e).toMatchObject({
      venue: 'binance-usdm',
      eventTime: 1564745798939,
      transactionTime: 1564745798938,
      reason: 'ORDER',
    });
    expect(e.balances).toEqual([
      {
        asset: 'USDT',
        walletBalance: '122624.12345678',
        crossWalletBalance: '100.12345678',
        balanceChange: '50.12345678',
        updatedAt: 1564745798938,
      },
    ]);
    expect(e.positions).toEqual([
      {
        symbol: 'BTCUSDT',
        positionSide: 'BOTH',
        amount: '0',
        entryPrice: '0.00000',
        breakEvenPrice: '0',
        accumulatedRealized: '200',
        unrealizedProfit: '0',
        marginType: 'isolated',
        isolatedWallet: '0.00000000',
        updatedAt: 1564745798938,
      },
    ]);
  });

  it('keeps negative wallet balances and a short position: futures amounts are signed', () => {
    const text = fx.ACCOUNT_UPDATE.replace('"wb":"122624.12345678"', '"wb":"-3.5"')
      .replace('"cw":"100.12345678"', '"cw":"-3.5"')
      .replace('"pa":"0"', '"pa":"-0.250"');
    const e = as<FuturesAccountEvent, 'ACCOUNT_UPDATE'>(futures(text), 'ACCOUNT_UPDATE');
    expect(e.balances[0]).toMatchObject({ walletBalance: '-3.5', crossWalletBalance: '-3.5' });
    expect(e.positions[0]).toMatchObject({ amount: '-0.250' });
  });

  it('tolerates a 2021 ACCOUNT_UPDATE without bc and bep', () => {
    const e = as<FuturesAccountEvent, 'ACCOUNT_UPDATE'>(
      futures(fx.ACCOUNT_UPDATE_2021),
      'ACCOUNT_UPDATE',
    );
    expect(e.balances[0]).toMatchObject({ walletBalance: '10.5', balanceChange: undefined });
    expect(e.positions[0]).toMatchObject({
      amount: '-2.5',
      positionSide: 'SHORT',
      breakEvenPrice: undefined,
    });
  });

  it('maps ORDER_TRADE_UPDATE with its order id above 2^53 exact', () => {
    const e = as<FuturesAccountEvent, 'ORDER_TRADE_UPDATE'>(
      futures(fx.ORDER_TRADE_UPDATE),
      'ORDER_TRADE_UPDATE',
    );
    expect(e.order).toEqual({
      venue: 'binance-usdm',
      symbol: 'BTCUSDT',
      orderId: '8389765739703625592',
      clientOrderId: 'TEST',
      side: 'SELL',
      orderType: 'TRAILING_STOP_MARKET',
      timeInForce: 'GTC',
      quantity: '0.001',
      price: '0',
      stopPrice: '7103.04',
      executionType: 'NEW',
      status: 'NEW',
      lastQuantity: '0',
      lastPrice: '0',
      filledQuantity: '0',
      commission: '0',
      commissionAsset: 'USDT',
      tradeId: undefined,
      isMaker: false,
      eventTime: 1568879465651,
      transactionTime: 1568879465650,
      averagePrice: '0',
      positionSide: 'LONG',
      reduceOnly: false,
      closePosition: false,
      realizedProfit: '0',
      originalOrderType: 'TRAILING_STOP_MARKET',
      workingType: 'CONTRACT_PRICE',
      bidNotional: '0',
      askNotional: '9.91',
      activationPrice: '7476.89',
      callbackRate: '5.0',
      priceProtect: false,
      selfTradePrevention: undefined,
      priceMatch: undefined,
      goodTillDate: undefined,
      expiryReason: undefined,
    });
    // What plain JSON.parse makes of it: a different order.
    expect(String((JSON.parse(fx.ORDER_TRADE_UPDATE) as { o: { i: number } }).o.i)).not.toBe(
      e.order.orderId,
    );
  });

  it('reads the 2026 fields, ignores unknown ones, keeps a trade id above 2^53', () => {
    const e = as<FuturesAccountEvent, 'ORDER_TRADE_UPDATE'>(
      futures(fx.ORDER_TRADE_UPDATE_2026),
      'ORDER_TRADE_UPDATE',
    );
    expect(e.order).toMatchObject({
      orderId: '8389765739703625593',
      tradeId: '9007199254740993',
      executionType: 'TRADE',
      isMaker: true,
      commission: undefined,
      commissionAsset: undefined,
      activationPrice: undefined,
      selfTradePrevention: 'EXPIRE_TAKER',
      priceMatch: 'NONE',
      goodTillDate: 1772003600000,
      // "0" is the venue's "None" (sent on every live order): no expiry reason.
      expiryReason: undefined,
    });
  });

  // Found in review: a fill without `m` passed for a taker's (spot refuses it), and the venue's
  // "0" for no expiry reason came through as a reason on every live order.
  it('refuses an order update without `m`; reads an expiry reason of "0" as none', () => {
    const withoutM = fx.ORDER_TRADE_UPDATE_2026.replace('"m":true,', '');
    expect(() => futures(withoutM)).toThrow(
      expect.objectContaining({ code: ErrorCode.Parse, message: expect.stringContaining("'m'") }),
    );
    const expired = as<FuturesAccountEvent, 'ORDER_TRADE_UPDATE'>(
      futures(fx.ORDER_TRADE_UPDATE_2026.replace('"er":"0"', '"er":"2"')),
      'ORDER_TRADE_UPDATE',
    );
    expect(expired.order.expiryReason).toBe('2');
  });

  it('maps MARGIN_CALL (protocol.md)', () => {
    expect(futures(fx.MARGIN_CALL)).toMatchObject({
      type: 'MARGIN_CALL',
      eventTime: 1587727187525,
      crossWalletBalance: '3.16812045',
      positions: [
        {
          symbol: 'ETHUSDT',
          positionSide: 'LONG',
          amount: '1.327',
          marginType: 'CROSSED',
          isolatedWallet: '0',
          markPrice: '187.17127',
          unrealizedProfit: '-1.166074',
          maintenanceMargin: '1.614445',
        },
      ],
    });
  });

  it('maps ALGO_UPDATE, before and after the trigger, the order id exactly', () => {
    expect(futures(fx.ALGO_UPDATE)).toMatchObject({
      type: 'ALGO_UPDATE',
      eventTime: 1750515742303,
      transactionTime: 1750515742297,
      symbol: 'BNBUSDT',
      algoId: '2148719',
      clientAlgoId: 'Q5xaq5EGKgXXa0fD7fs0Ip',
      algoType: 'CONDITIONAL',
      orderType: 'TAKE_PROFIT',
      side: 'SELL',
      positionSide: 'BOTH',
      timeInForce: 'GTC',
      quantity: '0.01',
      status: 'CANCELED',
      triggerPrice: '750',
      price: '750',
      orderId: undefined,
    });
    expect(futures(fx.ALGO_UPDATE_TRIGGERED)).toMatchObject({
      status: 'TRIGGERED',
      orderId: '8389765739703625593',
      averagePrice: '64001.10',
      executedQuantity: '0.002',
      positionSide: undefined,
    });
  });

  it('maps listenKeyExpired with a string E, and leaves the key out of the event and its raw', () => {
    const e = futures(fx.LISTEN_KEY_EXPIRED);
    expect(e).toMatchObject({ type: 'listenKeyExpired', eventTime: 1736996475556 });
    expect(Object.keys(e).sort()).toEqual(['eventTime', 'raw', 'type', 'venue']);
    const key = (JSON.parse(fx.LISTEN_KEY_EXPIRED) as { listenKey: string }).listenKey;
    expect(key.length).toBeGreaterThan(10);
    expect(JSON.stringify(e)).not.toContain(key);
  });

  it('maps the captured TRADE_LITE exactly', () => {
    expect(futures(fx.TRADE_LITE)).toMatchObject({
      type: 'TRADE_LITE',
      orderId: '8389765739703625592',
      tradeId: '109100866',
      side: 'BUY',
      lastPrice: '64089.20',
      lastQuantity: '0.040',
      isMaker: false,
    });
  });

  it('maps ACCOUNT_CONFIG_UPDATE, STRATEGY_UPDATE, GRID_UPDATE and CONDITIONAL_ORDER_TRIGGER_REJECT', () => {
    expect(futures(fx.ACCOUNT_CONFIG_LEVERAGE)).toMatchObject({
      leverage: { symbol: 'BTCUSDT', leverage: 25 },
      multiAssetsMode: undefined,
    });
    expect(futures(fx.ACCOUNT_CONFIG_MULTI_ASSETS)).toMatchObject({
      leverage: undefined,
      multiAssetsMode: true,
    });
    expect(futures(fx.STRATEGY_UPDATE)).toMatchObject({
      type: 'STRATEGY_UPDATE',
      strategyId: '176054594',
      strategyType: 'GRID',
      strategyStatus: 'NEW',
      symbol: 'BTCUSDT',
      updateTime: 1669262908216,
    });
    expect(futures(fx.GRID_UPDATE)).toMatchObject({
      type: 'GRID_UPDATE',
      strategyStatus: 'WORKING',
      detail: { r: '-0.00300716' },
    });
    expect(futures(fx.CONDITIONAL_ORDER_TRIGGER_REJECT)).toMatchObject({
      type: 'CONDITIONAL_ORDER_TRIGGER_REJECT',
      symbol: 'ETHUSDT',
      orderId: '155618472834',
      reason: expect.stringContaining('FOK') as string,
    });
  });

  it('passes an unknown event type on as other', () => {
    expect(futures('{"e":"ASSET_INDEX_UPDATE","E":5,"o":{}}')).toMatchObject({
      type: 'other',
      eventType: 'ASSET_INDEX_UPDATE',
      eventTime: 5,
    });
  });

  it('names an event by its first 64 characters in an error: a name can be megabytes', () => {
    // With separators: a run of 40 letters or more would be redacted as a possible key.
    const name = `Q${'z_'.repeat(50_000)}`;
    const message = parseErrorOf(() => futures(`{"e":"${name}","E":"soon"}`));
    expect(message).toBe(
      `UNIFEED_PARSE user-data/${name.slice(0, 64)}: field 'E' is missing or not an integer`,
    );
  });

  it.each([
    ['no e', '{"E":1}', "'e'"],
    ['no o', '{"e":"ORDER_TRADE_UPDATE","E":1,"T":1}', "'o'"],
    ['price a number', fx.ORDER_TRADE_UPDATE.replace('"p":"0"', '"p":0'), "'p'"],
    ['id a fraction', fx.ORDER_TRADE_UPDATE.replace('"i":8389765739703625592', '"i":1.5'), "'i'"],
    ['side lower case', fx.ORDER_TRADE_UPDATE.replace('"S":"SELL"', '"S":"sell"'), "'S'"],
    [
      'balances not a list',
      fx.ACCOUNT_UPDATE.replace('"B":[', '"B":{"x":[').replace('}],"P"', '}]},"P"'),
      "'B'",
    ],
    ['amount missing', fx.MARGIN_CALL.replace('"pa":"1.327",', ''), "'pa'"],
  ])('%s: UNIFEED_PARSE naming the field, never a value', (_n, text, field) => {
    const message = parseErrorOf(() => futures(text));
    expect(message).toMatch(/^UNIFEED_PARSE user-data/);
    expect(message).toContain(field);
    expect(message).not.toContain('8389765739703625592');
  });

  // Pins the field each value is read from: averagePrice is `ap`, and a position without `ps`
  // is one-way. Found by mutation: the average price showed the last fill's, and a one-way
  // position had no side.
  it('the average price is ap, not the last fill price; a position without ps is one-way (BOTH)', () => {
    const e = as<FuturesAccountEvent, 'ORDER_TRADE_UPDATE'>(
      futures(fx.ORDER_TRADE_UPDATE_2026.replace('"ap":"3000.10"', '"ap":"2999.95"')),
      'ORDER_TRADE_UPDATE',
    );
    expect(e.order).toMatchObject({ averagePrice: '2999.95', lastPrice: '3000.10' });
    const a = as<FuturesAccountEvent, 'ACCOUNT_UPDATE'>(
      futures(fx.ACCOUNT_UPDATE_2021.replace(',"ps":"SHORT"', '')),
      'ACCOUNT_UPDATE',
    );
    expect(a.positions[0]).toMatchObject({ amount: '-2.5', positionSide: 'BOTH' });
  });
});

describe('parseSpotEvent', () => {
  it('maps outboundAccountPosition and balanceUpdate (protocol.md)', () => {
    expect(spot(fx.OUTBOUND_ACCOUNT_POSITION)).toMatchObject({
      type: 'outboundAccountPosition',
      venue: 'binance-spot',
      eventTime: 1564034571105,
      lastUpdateTime: 1564034571073,
      balances: [{ asset: 'ETH', free: '10000.0', locked: '0.0', updatedAt: 1564034571073 }],
    });
    expect(spot(fx.BALANCE_UPDATE)).toEqual({
      type: 'balanceUpdate',
      venue: 'binance-spot',
      eventTime: 1573200697110,
      asset: 'BTC',
      delta: '100.0',
      clearTime: 1573200697068,
      raw: JSON.parse(fx.BALANCE_UPDATE) as unknown,
    });
    expect(spot(fx.EXTERNAL_LOCK_UPDATE)).toMatchObject({
      type: 'externalLockUpdate',
      asset: 'NEO',
      delta: '10.00000000',
      transactionTime: 1581557507268,
    });
  });

  it('maps executionReport, sentinels to undefined, the order id exact', () => {
    const e = as<SpotAccountEvent, 'executionReport'>(spot(fx.EXECUTION_REPORT), 'executionReport');
    expect(e.order).toEqual({
      venue: 'binance-spot',
      symbol: 'ETHBTC',
      orderId: '9007199254740993',
      clientOrderId: 'mUvoqJxFIILMdfAW5iGSOW',
      side: 'BUY',
      orderType: 'LIMIT',
      timeInForce: 'GTC',
      quantity: '1.00000000',
      price: '0.10264410',
      stopPrice: '0.00000000',
      executionType: 'NEW',
      status: 'NEW',
      lastQuantity: '0.00000000',
      lastPrice: '0.00000000',
      filledQuantity: '0.00000000',
      commission: '0',
      commissionAsset: undefined,
      tradeId: undefined,
      isMaker: false,
      eventTime: 1499405658658,
      transactionTime: 1499405658657,
      orderListId: undefined,
      originalClientOrderId: undefined,
      rejectReason: 'NONE',
      isOnBook: true,
      creationTime: 1499405658657,
      cumulativeQuoteQuantity: '0.00000000',
      lastQuoteQuantity: '0.00000000',
      quoteOrderQuantity: '0.00000000',
      icebergQuantity: '0.00000000',
      workingTime: 1499405658657,
      selfTradePrevention: 'NONE',
      preventedMatchId: '3',
    });
  });

  it('reads trade id 0 and order list id 0 as ids: only -1 means none on spot', () => {
    const text = fx.EXECUTION_REPORT.replace('"x":"NEW"', '"x":"TRADE"')
      .replace('"t":-1', '"t":0')
      .replace('"g":-1', '"g":0');
    const e = as<SpotAccountEvent, 'executionReport'>(spot(text), 'executionReport');
    expect(e.order).toMatchObject({ executionType: 'TRADE', tradeId: '0', orderListId: '0' });
  });

  it('maps eventStreamTerminated, and passes listStatus on as other', () => {
    expect(spot(fx.EVENT_STREAM_TERMINATED)).toMatchObject({
      type: 'eventStreamTerminated',
      eventTime: 1728973001334,
    });
    expect(spot(fx.LIST_STATUS)).toMatchObject({ type: 'other', eventType: 'listStatus' });
  });

  it.each([
    ['free a number', fx.OUTBOUND_ACCOUNT_POSITION.replace('"f":"10000.0"', '"f":10000'), "'f'"],
    ['no B', '{"e":"outboundAccountPosition","E":1,"u":1}', "'B'"],
    ['maker missing', fx.EXECUTION_REPORT.replace('"m":false,', ''), "'m'"],
    ['free negative', fx.OUTBOUND_ACCOUNT_POSITION.replace('"f":"10000.0"', '"f":"-7.5"'), "'f'"],
    ['locked negative', fx.OUTBOUND_ACCOUNT_POSITION.replace('"l":"0.0"', '"l":"-1"'), "'l'"],
    ['free minus zero', fx.OUTBOUND_ACCOUNT_POSITION.replace('"f":"10000.0"', '"f":"-0.0"'), "'f'"],
  ])('%s: UNIFEED_PARSE', (_n, text, field) => {
    const message = parseErrorOf(() => spot(text));
    expect(message).toMatch(/^UNIFEED_PARSE user-data/);
    expect(message).toContain(field);
  });

  it('refuses a negative free or locked amount, never quoting it', () => {
    const text =
      '{"e":"outboundAccountPosition","E":3,"u":300,"B":[{"a":"ETH","f":"-7.5","l":"-1"}]}';
    const message = parseErrorOf(() => spot(text));
    expect(message).toBe(
      "UNIFEED_PARSE user-data/outboundAccountPosition: field 'f' is missing or not a decimal string of 0 or more",
    );
  });

  it('keeps a negative delta: balanceUpdate and externalLockUpdate are signed changes', () => {
    const withdrawal = fx.BALANCE_UPDATE.replace('"d":"100.0"', '"d":"-100.0"');
    expect(spot(withdrawal)).toMatchObject({ type: 'balanceUpdate', delta: '-100.0' });
    const release = fx.EXTERNAL_LOCK_UPDATE.replace('"d":"10.00000000"', '"d":"-10.00000000"');
    expect(spot(release)).toMatchObject({ type: 'externalLockUpdate', delta: '-10.00000000' });
  });
});
