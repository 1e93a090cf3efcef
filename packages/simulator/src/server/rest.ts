import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock, TimerHandle } from '@unifeed/core';
import type { BookLevels } from '../market/book.js';
import type { Market } from '../market/market.js';
import type { SymbolMarket } from '../market/symbol-market.js';
import type { SymbolSpec } from '../market/symbols.js';
import type { Encoder } from '../payloads.js';
import type { VenueProfile } from '../venue.js';
import { requestUrl } from './routes.js';
import type { WeightBudget } from './weight.js';

/** A scripted REST misbehaviour (see `faults.rest`). */
export interface RestFault {
  /** Answer with this status instead (429 and 418 carry Retry-After). @default the real answer */
  status?: number | undefined;
  /** Delay the answer by this many simulated ms. @default 0 */
  delayMs?: number | undefined;
  /** Only requests whose path starts with this. @default every path */
  path?: string | undefined;
  /** How many requests it applies to. @default 1 */
  count?: number | undefined;
  /**
   * A depth snapshot as the book was this many market steps ago (a lagging REST replica), so
   * that it is older than diff events the client already holds. @default 0 (current)
   */
  staleSteps?: number | undefined;
}

/** A handler for paths outside market data (listen keys). */
export type RestExtension = (
  method: string,
  path: string,
  query: URLSearchParams,
  apiKey: string | undefined,
) => { status: number; body: unknown; weight: number } | undefined;

export interface RestCounters {
  requests: number;
  status429: number;
  status418: number;
}

const MAX_FAULTS = 1000;
const MAX_PENDING = 10_000;

/** A REST `symbol` as Binance accepts it. */
const REST_SYMBOL = /^[A-Z0-9-_.]{1,20}$/;

function errorBody(code: number, msg: string): { code: number; msg: string } {
  return { code, msg };
}

/**
 * The REST side on the same port: depth snapshots consistent with the diff streams (the
 * snapshot is the book right after its `lastUpdateId`), exchangeInfo, ping and time, under
 * the per-minute weight budget; plus scripted slow, 429 and 418 answers.
 */
export class RestApi {
  readonly counters: RestCounters = { requests: 0, status429: 0, status418: 0 };
  readonly #venue: VenueProfile;
  readonly #market: Market;
  readonly #encoder: Encoder;
  readonly #clock: Clock;
  readonly #budget: WeightBudget;
  readonly #extension: RestExtension;
  readonly #faults: RestFault[] = [];
  readonly #pending = new Set<TimerHandle>();

  constructor(
    venue: VenueProfile,
    market: Market,
    encoder: Encoder,
    clock: Clock,
    budget: WeightBudget,
    extension: RestExtension,
  ) {
    this.#venue = venue;
    this.#market = market;
    this.#encoder = encoder;
    this.#clock = clock;
    this.#budget = budget;
    this.#extension = extension;
  }

  addFault(fault: RestFault): void {
    if (this.#faults.length < MAX_FAULTS) this.#faults.push({ count: 1, ...fault });
  }

  #takeFault(path: string): RestFault | undefined {
    const i = this.#faults.findIndex((f) => f.path === undefined || path.startsWith(f.path));
    const f = this.#faults[i];
    if (f === undefined) return undefined;
    f.count = (f.count ?? 1) - 1;
    if (f.count <= 0) this.#faults.splice(i, 1);
    return f;
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    this.counters.requests++;
    const url = requestUrl(req.url);
    if (url === undefined) {
      this.#send(res, 400, errorBody(-1000, 'Malformed request path.'), 1);
      return;
    }
    const method = req.method ?? 'GET';
    const header = req.headers['x-mbx-apikey'];
    const apiKey = Array.isArray(header) ? header[0] : header;
    const fault = this.#takeFault(url.pathname);
    const answer = (): void => {
      if (fault?.status !== undefined) {
        this.#send(res, fault.status, errorBody(-1003, 'Simulated failure.'), 1, 60);
        return;
      }
      this.#route(res, method, url.pathname, url.searchParams, apiKey, fault?.staleSteps ?? 0);
    };
    if (fault?.delayMs !== undefined && fault.delayMs > 0 && this.#pending.size < MAX_PENDING) {
      const timer = this.#clock.setTimeout(() => {
        this.#pending.delete(timer);
        answer();
      }, fault.delayMs);
      this.#pending.add(timer);
      return;
    }
    answer();
  }

  #route(
    res: ServerResponse,
    method: string,
    path: string,
    query: URLSearchParams,
    apiKey: string | undefined,
    staleSteps: number,
  ): void {
    const prefix = this.#venue.restPrefix;
    const ext = this.#extension(method, path, query, apiKey);
    if (ext !== undefined) {
      this.#send(res, ext.status, ext.body, ext.weight);
      return;
    }
    if (method !== 'GET') {
      this.#send(res, 404, errorBody(-1000, 'Unknown endpoint.'), 1);
      return;
    }
    switch (path) {
      case `${prefix}/ping`:
        this.#send(res, 200, {}, 1);
        return;
      case `${prefix}/time`:
        this.#send(res, 200, { serverTime: this.#clock.now() }, 1);
        return;
      case `${prefix}/exchangeInfo`:
        this.#send(res, 200, this.#exchangeInfo(), this.#venue.futures ? 1 : 20);
        return;
      case `${prefix}/depth`:
        this.#depth(res, query, staleSteps);
        return;
      default:
        this.#send(res, 404, errorBody(-1000, 'Unknown endpoint.'), 1);
    }
  }

  #depth(res: ServerResponse, query: URLSearchParams, staleSteps: number): void {
    const symbol = query.get('symbol');
    if (symbol === null || symbol === '') {
      const msg = "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.";
      this.#send(res, 400, errorBody(-1102, msg), 1);
      return;
    }
    // Binance refuses a lower-case symbol outright, where the stream names want it lower-case:
    // a book that takes its REST symbol from its stream name must fail here as it would there.
    if (!REST_SYMBOL.test(symbol)) {
      const msg = `Illegal characters found in parameter 'symbol'; legal range is '${REST_SYMBOL.source}'.`;
      this.#send(res, 400, errorBody(-1100, msg), 1);
      return;
    }
    const m = this.#market.get(symbol);
    if (m === undefined) {
      this.#send(res, 400, errorBody(-1121, 'Invalid symbol.'), 1);
      return;
    }
    const raw = query.get('limit');
    let limit = raw === null ? this.#venue.depthDefaultLimit : Number(raw);
    if (!Number.isInteger(limit) || limit <= 0) {
      this.#send(res, 400, errorBody(-1100, "Illegal characters found in parameter 'limit'."), 1);
      return;
    }
    const allowed = this.#venue.depthLimits;
    if (allowed !== undefined) limit = allowed.find((l) => l >= limit) ?? this.#venue.depthMaxLimit;
    limit = Math.min(limit, this.#venue.depthMaxLimit);
    const weight = this.#venue.depthWeight(limit);
    if (!this.#admit(res, weight)) return;
    const levels = staleSteps > 0 ? stale(m, staleSteps, limit) : m.book.top(limit);
    this.#write(res, 200, this.#encoder.snapshot(m, levels, this.#clock.now()), undefined);
  }

  #exchangeInfo(): unknown {
    const now = this.#clock.now();
    const rateLimits = [
      {
        rateLimitType: 'REQUEST_WEIGHT',
        interval: 'MINUTE',
        intervalNum: 1,
        limit: this.#venue.limits.restWeightPerMinute,
      },
      { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: 1200 },
    ];
    const symbols = [...this.#market.specs.values()].map((s) => this.#symbolInfo(s));
    return {
      timezone: 'UTC',
      serverTime: now,
      rateLimits,
      exchangeFilters: [],
      assets: [],
      symbols,
    };
  }

  #symbolInfo(s: SymbolSpec): unknown {
    const tick = (1 / 10 ** s.priceDecimals).toFixed(s.priceDecimals);
    const step = (1 / 10 ** s.qtyDecimals).toFixed(s.qtyDecimals);
    const filters = [
      { filterType: 'PRICE_FILTER', minPrice: tick, maxPrice: '1000000', tickSize: tick },
      { filterType: 'LOT_SIZE', minQty: step, maxQty: '1000000', stepSize: step },
      { filterType: 'MARKET_LOT_SIZE', minQty: step, maxQty: '1000000', stepSize: step },
      { filterType: 'MIN_NOTIONAL', notional: '5', minNotional: '5' },
    ];
    const orderTypes = ['LIMIT', 'MARKET', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT_LIMIT', 'LIMIT_MAKER'];
    if (this.#venue.futures) {
      return {
        symbol: s.symbol,
        pair: s.symbol,
        contractType: 'PERPETUAL',
        deliveryDate: 4133404800000,
        onboardDate: 1569398400000,
        status: 'TRADING',
        maintMarginPercent: '2.5000',
        requiredMarginPercent: '5.0000',
        baseAsset: s.baseAsset,
        quoteAsset: s.quoteAsset,
        marginAsset: s.quoteAsset,
        pricePrecision: s.priceDecimals,
        quantityPrecision: s.qtyDecimals,
        baseAssetPrecision: 8,
        quotePrecision: 8,
        underlyingType: 'COIN',
        underlyingSubType: [],
        triggerProtect: '0.0500',
        liquidationFee: '0.012500',
        marketTakeBound: '0.05',
        filters,
        orderTypes: ['LIMIT', 'MARKET', 'STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET'],
        timeInForce: ['GTC', 'IOC', 'FOK', 'GTX'],
      };
    }
    return {
      symbol: s.symbol,
      status: 'TRADING',
      baseAsset: s.baseAsset,
      baseAssetPrecision: 8,
      quoteAsset: s.quoteAsset,
      quotePrecision: 8,
      quoteAssetPrecision: 8,
      baseCommissionPrecision: 8,
      quoteCommissionPrecision: 8,
      orderTypes,
      icebergAllowed: true,
      ocoAllowed: true,
      isSpotTradingAllowed: true,
      isMarginTradingAllowed: false,
      filters,
      permissions: [],
      permissionSets: [['SPOT']],
      defaultSelfTradePreventionMode: 'EXPIRE_MAKER',
      allowedSelfTradePreventionModes: ['EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'],
    };
  }

  /** Charge the weight; on 429/418 answer and return false. */
  #admit(res: ServerResponse, weight: number): boolean {
    const v = this.#budget.charge(weight);
    if (v.kind === 'ok') return true;
    const limit = this.#venue.limits.restWeightPerMinute;
    if (v.kind === 'limited') {
      this.counters.status429++;
      const msg = `Too many requests; current limit is ${limit} request weight per 1 MINUTE. Please use the websocket for live updates to avoid polling the API.`;
      this.#write(res, 429, JSON.stringify(errorBody(-1003, msg)), v.retryAfterSeconds);
      return false;
    }
    this.#banned(res, v.until, v.retryAfterSeconds);
    return false;
  }

  #banned(res: ServerResponse, until: number, retryAfter: number): void {
    this.counters.status418++;
    const msg = `Way too many requests; IP banned until ${until}. Please use the websocket for live updates to avoid bans.`;
    this.#write(res, 418, JSON.stringify(errorBody(-1003, msg)), retryAfter);
  }

  #send(
    res: ServerResponse,
    status: number,
    body: unknown,
    weight: number,
    retryAfter?: number,
  ): void {
    if (status === 429 || status === 418) {
      if (status === 429) this.counters.status429++;
      else this.counters.status418++;
      this.#write(res, status, JSON.stringify(body), retryAfter ?? 60);
      return;
    }
    if (!this.#admit(res, weight)) return;
    this.#write(res, status, JSON.stringify(body), undefined);
  }

  #write(res: ServerResponse, status: number, text: string, retryAfter: number | undefined): void {
    if (res.writableEnded || res.destroyed) return;
    const headers: Record<string, string> = {
      'content-type': 'application/json;charset=UTF-8',
      'content-length': String(Buffer.byteLength(text)),
      'x-mbx-used-weight': String(this.#budget.used),
      'x-mbx-used-weight-1m': String(this.#budget.used),
    };
    if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
    res.writeHead(status, headers);
    res.end(text);
  }

  close(): void {
    for (const t of this.#pending) this.#clock.clearTimeout(t);
    this.#pending.clear();
  }
}

/**
 * The top `limit` levels of the book `steps` market steps ago, or the oldest kept when the
 * history is shorter (it is kept only while the symbol's depth is subscribed).
 */
function stale(m: SymbolMarket, steps: number, limit: number): BookLevels {
  const history = m.batchesSince(0);
  const batch = history[Math.max(0, history.length - 1 - steps)];
  const levels = batch === undefined ? undefined : m.bookAt(batch.u);
  if (levels === undefined) return m.book.top(limit);
  return {
    lastUpdateId: levels.lastUpdateId,
    bids: levels.bids.slice(0, limit),
    asks: levels.asks.slice(0, limit),
  };
}
