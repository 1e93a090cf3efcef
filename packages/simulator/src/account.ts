import type { Clock } from '@unifeed/core';
import { SimulatorError, SimulatorErrorCode } from './errors.js';
import { formatUnits } from './market/decimal.js';
import type { VenueProfile } from './venue.js';

/** 8 decimal places, as Binance account amounts. */
const SCALE = 8;
const ONE = 10 ** SCALE;

function toUnits(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n))
    throw new SimulatorError(SimulatorErrorCode.InvalidOption, `not a decimal: ${text}`);
  return Math.round(n * ONE);
}

const fmt = (units: number): string => formatUnits(units, SCALE);

export interface OrderRequest {
  symbol: string;
  side: 'BUY' | 'SELL';
  /** @default 'LIMIT' */
  type?: 'LIMIT' | 'MARKET' | undefined;
  /** Decimal string. */
  quantity: string;
  /** Decimal string; required for LIMIT. @default '0' */
  price?: string | undefined;
  /** @default generated */
  clientOrderId?: string | undefined;
}

export interface SimOrder {
  /** Order ids go beyond 2^53 on the real venue; here they are strings to keep that honest. */
  orderId: string;
  clientOrderId: string;
  symbol: string;
  side: 'BUY' | 'SELL';
  type: 'LIMIT' | 'MARKET';
  quantity: string;
  price: string;
  filled: string;
  status: 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED';
}

interface OrderState {
  order: SimOrder;
  qty: number;
  price: number;
  filled: number;
  quoteFilled: number;
}

/** Where the account's events go (the user-data fan-out). */
export type AccountSink = (eventType: string, eventJson: string) => void;

/**
 * A scriptable trading account: tests create orders and fills, and the account emits the
 * events a real one would: ORDER_TRADE_UPDATE and ACCOUNT_UPDATE on futures, executionReport,
 * outboundAccountPosition and balanceUpdate on spot.
 */
export class Account {
  readonly #venue: VenueProfile;
  readonly #clock: Clock;
  readonly #sink: AccountSink;
  readonly #orders = new Map<string, OrderState>();
  readonly #balances = new Map<string, number>([['USDT', 100_000 * ONE]]);
  readonly #positions = new Map<string, number>();
  /** Starts above 2^53 like captured futures ids; kept as bigint so it never rounds. */
  #nextOrderId = 8389765739703625592n;
  #nextTradeId = 1;

  constructor(venue: VenueProfile, clock: Clock, sink: AccountSink) {
    this.#venue = venue;
    this.#clock = clock;
    this.#sink = sink;
  }

  /** Free balance of an asset as a decimal string. */
  balance(asset: string): string {
    return fmt(this.#balances.get(asset) ?? 0);
  }

  /** Futures: the position amount of a symbol (one-way mode), negative when short. */
  position(symbol: string): string {
    return fmt(this.#positions.get(symbol.toUpperCase()) ?? 0);
  }

  /**
   * Futures: a `MARGIN_CALL` for the position of `symbol` at `markPrice`, as the venue sends
   * when the margin ratio gets too high. The amounts besides the position are placeholders.
   */
  marginCall(symbol: string, markPrice: string): void {
    if (!this.#venue.futures) {
      throw new SimulatorError(SimulatorErrorCode.InvalidOption, 'margin calls are futures only');
    }
    const s = symbol.toUpperCase();
    this.#emit({
      e: 'MARGIN_CALL',
      E: this.#clock.now(),
      cw: this.balance('USDT'),
      p: [
        {
          s,
          ps: 'BOTH',
          pa: this.position(s),
          mt: 'CROSSED',
          iw: '0',
          mp: fmt(toUnits(markPrice)),
          up: '0',
          mm: '0',
        },
      ],
    });
  }

  placeOrder(req: OrderRequest): SimOrder {
    const orderId = String(this.#nextOrderId++);
    const order: SimOrder = {
      orderId,
      clientOrderId: req.clientOrderId ?? `sim-${orderId.slice(-8)}`,
      symbol: req.symbol.toUpperCase(),
      side: req.side,
      type: req.type ?? 'LIMIT',
      quantity: req.quantity,
      price: req.price ?? '0',
      filled: '0',
      status: 'NEW',
    };
    const state: OrderState = {
      order,
      qty: toUnits(req.quantity),
      price: toUnits(order.price),
      filled: 0,
      quoteFilled: 0,
    };
    if (this.#orders.size >= 10_000) {
      const oldest = this.#orders.keys().next().value;
      if (oldest !== undefined) this.#orders.delete(oldest);
    }
    this.#orders.set(orderId, state);
    this.#orderEvent(state, 'NEW', 0, 0);
    return { ...order };
  }

  #get(orderId: string): OrderState {
    const s = this.#orders.get(orderId);
    if (s === undefined)
      throw new SimulatorError(SimulatorErrorCode.NotFound, `no order ${orderId}`);
    return s;
  }

  /** Fill (part of) an order at `price` (default: its limit price); emits the trade and balances. */
  fill(
    orderId: string,
    options: { quantity?: string | undefined; price?: string | undefined } = {},
  ): SimOrder {
    const s = this.#get(orderId);
    const qty = Math.min(
      options.quantity === undefined ? s.qty - s.filled : toUnits(options.quantity),
      s.qty - s.filled,
    );
    const price = options.price === undefined ? s.price : toUnits(options.price);
    const quote = Math.round((qty * price) / ONE);
    s.filled += qty;
    s.quoteFilled += quote;
    s.order.filled = fmt(s.filled);
    s.order.status = s.filled >= s.qty ? 'FILLED' : 'PARTIALLY_FILLED';
    const sign = s.order.side === 'BUY' ? 1 : -1;
    const symbol = s.order.symbol;
    const base = symbol.replace(/(USDT|USDC|BTC|ETH|BNB)$/, '');
    const quoteAsset = symbol.slice(base.length) || 'USDT';
    this.#orderEvent(s, 'TRADE', qty, price);
    if (this.#venue.futures) {
      this.#positions.set(symbol, (this.#positions.get(symbol) ?? 0) + sign * qty);
      this.#accountUpdate(symbol, quoteAsset);
    } else {
      this.#balances.set(base, (this.#balances.get(base) ?? 0) + sign * qty);
      this.#balances.set(quoteAsset, (this.#balances.get(quoteAsset) ?? 0) - sign * quote);
      this.#position([base, quoteAsset]);
    }
    return { ...s.order };
  }

  cancel(orderId: string): SimOrder {
    const s = this.#get(orderId);
    s.order.status = 'CANCELED';
    this.#orderEvent(s, 'CANCELED', 0, 0);
    return { ...s.order };
  }

  /** A deposit or withdrawal (spot `balanceUpdate`, futures ACCOUNT_UPDATE reason DEPOSIT). */
  adjustBalance(asset: string, delta: string): void {
    const d = toUnits(delta);
    this.#balances.set(asset, (this.#balances.get(asset) ?? 0) + d);
    const now = this.#clock.now();
    if (this.#venue.futures) {
      this.#accountUpdate(undefined, asset, 'DEPOSIT');
      return;
    }
    this.#emit({ e: 'balanceUpdate', E: now, a: asset, d: fmt(d), T: now });
    this.#position([asset]);
  }

  /**
   * Order ids are above 2^53, so they are written as bare JSON integers from their exact
   * decimal text, never through a JS number.
   */
  #emit(event: Record<string, unknown>): void {
    this.#sink(String(event['e']), JSON.stringify(event).replace(/"i":"(\d+)"/, '"i":$1'));
  }

  #position(assets: string[]): void {
    const now = this.#clock.now();
    const B = assets.map((a) => ({ a, f: fmt(this.#balances.get(a) ?? 0), l: fmt(0) }));
    this.#emit({ e: 'outboundAccountPosition', E: now, u: now, B });
  }

  #accountUpdate(symbol: string | undefined, asset: string, reason = 'ORDER'): void {
    const now = this.#clock.now();
    const wb = fmt(this.#balances.get(asset) ?? 0);
    const P =
      symbol === undefined
        ? []
        : [
            {
              s: symbol,
              pa: fmt(this.#positions.get(symbol) ?? 0),
              ep: '0.00000',
              bep: '0',
              cr: '0',
              up: '0',
              mt: 'cross',
              iw: '0',
              ps: 'BOTH',
            },
          ];
    this.#emit({
      e: 'ACCOUNT_UPDATE',
      E: now,
      T: now,
      a: { m: reason, B: [{ a: asset, wb, cw: wb, bc: '0' }], P },
    });
  }

  #orderEvent(
    s: OrderState,
    exec: 'NEW' | 'TRADE' | 'CANCELED',
    lastQty: number,
    lastPrice: number,
  ): void {
    const now = this.#clock.now();
    const o = s.order;
    const avg = s.filled === 0 ? 0 : Math.round((s.quoteFilled * ONE) / s.filled);
    const tradeId = exec === 'TRADE' ? this.#nextTradeId++ : -1;
    if (this.#venue.futures) {
      this.#emit({
        e: 'ORDER_TRADE_UPDATE',
        E: now,
        T: now,
        o: {
          s: o.symbol,
          c: o.clientOrderId,
          S: o.side,
          o: o.type,
          f: 'GTC',
          q: o.quantity,
          p: o.price,
          ap: fmt(avg),
          sp: '0',
          x: exec,
          X: o.status,
          i: o.orderId,
          l: fmt(lastQty),
          z: fmt(s.filled),
          L: fmt(lastPrice),
          N: 'USDT',
          n: '0',
          T: now,
          t: tradeId === -1 ? 0 : tradeId,
          b: '0',
          a: '0',
          m: false,
          R: false,
          wt: 'CONTRACT_PRICE',
          ot: o.type,
          ps: 'BOTH',
          cp: false,
          rp: '0',
        },
      });
      return;
    }
    this.#emit({
      e: 'executionReport',
      E: now,
      s: o.symbol,
      c: o.clientOrderId,
      S: o.side,
      o: o.type,
      f: 'GTC',
      q: o.quantity,
      p: o.price,
      P: '0.00000000',
      F: '0.00000000',
      g: -1,
      C: '',
      x: exec,
      X: o.status,
      r: 'NONE',
      i: o.orderId,
      l: fmt(lastQty),
      z: fmt(s.filled),
      L: fmt(lastPrice),
      n: '0',
      N: null,
      T: now,
      t: tradeId,
      w: o.status === 'NEW' || o.status === 'PARTIALLY_FILLED',
      m: false,
      M: false,
      O: now,
      Z: fmt(s.quoteFilled),
      Y: fmt(Math.round((lastQty * lastPrice) / ONE)),
      Q: '0.00000000',
    });
  }
}
