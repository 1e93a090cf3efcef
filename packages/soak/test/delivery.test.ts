import { describe, expect, it } from 'vitest';
import {
  DeliveryCheck,
  intervalMs,
  orderUpdateKey,
  type OrderUpdateFields,
} from '../src/checks/delivery.js';

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;

describe('DeliveryCheck', () => {
  it('knows interval lengths', () => {
    expect(intervalMs('1m')).toBe(MIN);
    expect(intervalMs('4h')).toBe(4 * 60 * MIN);
    expect(intervalMs('1w')).toBe(7 * 24 * 60 * MIN);
    expect(intervalMs('1M')).toBeUndefined();
  });

  it('passes contiguous closed candles and fresh ids', () => {
    const c = new DeliveryCheck();
    for (let i = 0; i < 5; i++) c.closedCandle('s', 'x@kline_1m', '1m', T0 + i * MIN);
    for (let id = 1; id < 100; id++) c.event('s', 'x@bookTicker', id);
    expect(c.duplicates.count + c.missed.count).toBe(0);
    expect(c.closedCandles).toBe(5);
  });

  it('fails on an id delivered twice to one subscriber, also out of order', () => {
    const c = new DeliveryCheck();
    c.event('s', 'x@bookTicker', 5);
    c.event('s', 'x@bookTicker', 7);
    c.event('other', 'x@bookTicker', 7); // another subscriber: its own first
    c.event('s', 'x@bookTicker', 5);
    expect(c.duplicates.count).toBe(1);
  });

  it('fails on a closed candle delivered twice', () => {
    const c = new DeliveryCheck();
    c.closedCandle('s', 'x@kline_1m', '1m', T0);
    c.closedCandle('s', 'x@kline_1m', '1m', T0);
    expect(c.duplicates.count).toBe(1);
  });

  it('fails on a skipped closed candle with no gap announced, passes with one', () => {
    const c = new DeliveryCheck();
    c.closedCandle('s', 'x@kline_1m', '1m', T0);
    c.closedCandle('s', 'x@kline_1m', '1m', T0 + 3 * MIN);
    expect(c.missed.count).toBe(2);
    c.closedCandle('s', 'y@kline_1m', '1m', T0);
    c.gap('y@kline_1m');
    c.closedCandle('s', 'y@kline_1m', '1m', T0 + 3 * MIN);
    // The announcement covers one hole, not the next one.
    c.closedCandle('s', 'y@kline_1m', '1m', T0 + 5 * MIN);
    expect(c.missed.count).toBe(3);
  });

  it('fails on an order update delivered twice, and passes every real update of an order', () => {
    const c = new DeliveryCheck();
    const base: OrderUpdateFields = {
      symbol: 'BTCUSDT',
      orderId: '8389765739703625592',
      executionType: 'NEW',
      status: 'NEW',
      tradeId: undefined,
      filledQuantity: '0',
      transactionTime: T0,
      price: '10',
      quantity: '2',
    };
    // One order's life in one millisecond, as the simulator sends it: all distinct.
    const life: OrderUpdateFields[] = [
      base,
      { ...base, executionType: 'AMENDMENT', price: '11' },
      { ...base, executionType: 'AMENDMENT', price: '11', quantity: '3' },
      {
        ...base,
        executionType: 'TRADE',
        status: 'PARTIALLY_FILLED',
        tradeId: '1',
        filledQuantity: '1',
      },
      {
        ...base,
        executionType: 'TRADE',
        status: 'PARTIALLY_FILLED',
        tradeId: '2',
        filledQuantity: '2',
      },
      { ...base, executionType: 'CANCELED', status: 'CANCELED', filledQuantity: '2' },
      // Order ids are per symbol: another symbol's order with the same id is another order.
      { ...base, symbol: 'ETHUSDT' },
    ];
    for (const o of life) c.event('orders', 'user-data', orderUpdateKey(o));
    expect(c.duplicates.count).toBe(0);
    c.event('orders', 'user-data', orderUpdateKey(life[3]!));
    expect(c.duplicates.count).toBe(1);
    expect(c.duplicates.examples[0]).toContain('TRADE/PARTIALLY_FILLED trade 1');
  });
});
