import { parseRetryAfter, rateLimitHoldMs } from './backoff.js';
import { realClock, type Clock, type TimerHandle } from './clock.js';
import { ErrorCode, UnifeedError } from './errors.js';
import { guardedLogger, silentLogger, type Logger } from './logger.js';
import {
  given,
  requireClock,
  requireDuration,
  requireLogger,
  requireObject,
  requirePositiveInteger,
} from './options.js';
import { quoted } from './fields/index.js';
import { excerpt, VENUE_TEXT_MAX } from './redact.js';
import { RestWeightBudget } from './rest-weight-budget.js';
import { requireSecureUrl } from './secure-url.js';

/** One REST call. */
export interface RestRequest {
  /** @default 'GET' */
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE' | undefined;
  /** Path below the base URL, e.g. `/fapi/v1/depth`. */
  path: string;
  /** Query parameters. Never logged: signed requests carry secrets here. */
  query?: Readonly<Record<string, string | number>> | undefined;
  /** The weight the venue charges for this call. */
  weight: number;
  /** Sent as the `X-MBX-APIKEY` header. Never logged. */
  apiKey?: string | undefined;
  /** Abort: a queued call leaves the queue without spending weight; one in flight is cut. */
  signal?: AbortSignal | undefined;
  /**
   * `high` goes ahead of every `normal` call waiting for the budget and may spend a reserve of
   * 5 % above it: a listen-key keepalive must not wait behind a mass order-book resync.
   * @default 'normal'
   */
  priority?: 'high' | 'normal' | undefined;
}

/** Settings of a {@link RestClient}. */
export interface RestClientOptions {
  /** Scheme, host, port and an optional path prefix (a proxy). Plain `http:` only for loopback. */
  baseUrl: string;
  /**
   * Weight this client spends per minute at most. Keep it below the venue's limit: orders
   * and other processes on the same IP spend from the same budget.
   * @default 960 (80 % of Binance spot's 1,200)
   */
  maxWeightPerMinute?: number | undefined;
  /** @default realClock */
  clock?: Clock | undefined;
  /** @default silentLogger */
  logger?: Logger | undefined;
  /** Injected for tests. @default globalThis.fetch */
  fetch?: typeof globalThis.fetch | undefined;
  /** A call without an answer after this long fails with `UNIFEED_HTTP_TIMEOUT`. @default 10000 */
  timeoutMs?: number | undefined;
  /** Calls in flight at once. @default 4 */
  concurrency?: number | undefined;
  /**
   * Calls waiting for budget; one more fails with `UNIFEED_QUEUE_OVERFLOW`, unless it is a
   * `high` one and a `normal` one waits: then the newest normal one fails instead. @default 10000
   */
  maxPending?: number | undefined;
  /**
   * Longest answer body read, in bytes (as received, after any decompression). A 2xx over it
   * fails with `UNIFEED_BODY_TOO_LARGE` and the rest of the body is not read; an error answer
   * over it is reported by its status alone. Three times Binance spot's unfiltered
   * `exchangeInfo` (the largest answer, up to ~10 MB), so that new listings do not break it,
   * while a call holds at most twice the limit (its chunks, and their copy as it is decoded).
   * @default 33554432 (32 MiB)
   */
  maxBodyBytes?: number | undefined;
}

/** The defaults of {@link RestClientOptions}, as documented there. */
const REST_DEFAULTS = {
  maxWeightPerMinute: 960,
  timeoutMs: 10_000,
  concurrency: 4,
  maxPending: 10_000,
  maxBodyBytes: 32 * 1024 * 1024,
} as const;

/** Counters of a {@link RestClient}. Nothing in here is secret. */
export interface RestClientStats {
  requests: number;
  inFlight: number;
  pending: number;
  /** Weight spent in the current minute, ours or reported by the venue. */
  weightUsed: number;
  maxWeightPerMinute: number;
  /** Calls that went out only after waiting for the weight budget, each counted once. */
  budgetWaits: number;
  status429: number;
  status418: number;
  /** Calls that ended in any error. */
  failures: number;
  /** No call goes before this wall-clock time (after a 429 or 418); 0 when free. */
  heldUntil: number;
}

interface Pending {
  req: RestRequest;
  resolve(value: unknown): void;
  reject(err: UnifeedError): void;
  onAbort?: () => void;
  /** Gone out: taken from the queue to run. */
  sent?: boolean;
  /** It sat in the queue while the budget held the queue: counted in `budgetWaits` as it goes. */
  waited?: boolean;
}

/**
 * The one way unifeed talks REST (order-book snapshots, listen keys). Every call waits for the
 * weight budget, so that a mass resync of hundreds of books is spread over minutes instead of
 * earning a 429; a 429 or 418 holds every call for as long as the venue asks. It never retries
 * by itself: the caller owns its retry, and its next call simply waits for the budget.
 */
export class RestClient {
  readonly baseUrl: string;
  readonly #budget: RestWeightBudget;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #fetch: typeof globalThis.fetch;
  readonly #timeoutMs: number;
  readonly #concurrency: number;
  readonly #maxPending: number;
  readonly #maxBodyBytes: number;
  readonly #queue: Pending[] = [];
  #inFlight = 0;
  #timer: TimerHandle | undefined;
  #counts = { requests: 0, budgetWaits: 0, status429: 0, status418: 0, failures: 0 };

  constructor(options: RestClientOptions) {
    requireObject('the options of RestClient', options);
    this.baseUrl = baseUrlOf(options.baseUrl);
    requireClock(options.clock);
    requireLogger(options.logger);
    this.#clock = options.clock ?? realClock;
    this.#budget = new RestWeightBudget(
      given(options.maxWeightPerMinute, REST_DEFAULTS.maxWeightPerMinute),
      this.#clock,
    );
    this.#logger = guardedLogger(options.logger ?? silentLogger);
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#timeoutMs = given(options.timeoutMs, REST_DEFAULTS.timeoutMs);
    this.#concurrency = given(options.concurrency, REST_DEFAULTS.concurrency);
    this.#maxPending = given(options.maxPending, REST_DEFAULTS.maxPending);
    this.#maxBodyBytes = given(options.maxBodyBytes, REST_DEFAULTS.maxBodyBytes);
    // Refused here rather than found out later: a concurrency of 0 runs no call ever, a NaN
    // timeout times every call out at once, a NaN limit compares as no limit at all.
    requirePositiveInteger('maxBodyBytes', this.#maxBodyBytes);
    requirePositiveInteger('concurrency', this.#concurrency);
    requirePositiveInteger('maxPending', this.#maxPending);
    requirePositiveInteger('maxWeightPerMinute', this.#budget.maxPerMinute);
    requireDuration('timeoutMs', this.#timeoutMs, 1);
  }

  /** Make a call once the budget allows. Resolves with the decoded JSON body of a 2xx. */
  request<T = unknown>(req: RestRequest): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // Refused as the rest are, by rejection: an untyped `null` would be a TypeError.
      if (typeof req !== 'object' || req === null) {
        this.#counts.failures++;
        reject(new UnifeedError(ErrorCode.InvalidOption, 'a REST call must be an object'));
        return;
      }
      if (req.signal?.aborted) {
        reject(aborted(req));
        return;
      }
      const refused = refusal(req);
      if (refused !== undefined) {
        this.#counts.failures++;
        reject(refused);
        return;
      }
      // NaN would turn the budget off for the minute (every comparison false), a negative
      // weight refund it: the venue's limit would then be passed, and the IP banned.
      if (!Number.isSafeInteger(req.weight) || req.weight < 0) {
        this.#counts.failures++;
        reject(
          new UnifeedError(
            ErrorCode.InvalidOption,
            `${req.method ?? 'GET'} ${req.path}: \`weight\` must be an integer of 0 or more, not ${String(req.weight)}`,
          ),
        );
        return;
      }
      if (this.#queue.length >= this.#maxPending) {
        this.#counts.failures++;
        const full = new UnifeedError(
          ErrorCode.QueueOverflow,
          `REST queue full (${this.#maxPending} calls)`,
        );
        // A high-priority call (a listen key's) takes the place of the newest normal one: a
        // storm of snapshots filling the queue must not cost the account its key.
        const newest = this.#queue.at(-1)!;
        if (req.priority !== 'high' || newest.req.priority === 'high') {
          reject(full);
          return;
        }
        this.#queue.pop();
        if (newest.onAbort) newest.req.signal?.removeEventListener('abort', newest.onAbort);
        newest.reject(full);
      }
      const p: Pending = { req, resolve: resolve as (v: unknown) => void, reject };
      if (req.signal) {
        p.onAbort = () => {
          const i = this.#queue.indexOf(p);
          if (i < 0) return;
          this.#queue.splice(i, 1);
          // The budget's wait was the head's: the call now first may fit at once (or there is
          // none, and no timer may outlive the last waiting call).
          if (i === 0) {
            this.#clearTimer();
            this.#pump();
          }
          reject(aborted(req));
        };
        req.signal.addEventListener('abort', p.onAbort, { once: true });
      }
      if (req.priority === 'high') {
        const i = this.#queue.findIndex((q) => q.req.priority !== 'high');
        this.#queue.splice(i < 0 ? this.#queue.length : i, 0, p);
        // The wait was computed for a bulk call; this one may fit the reserve now.
        this.#clearTimer();
      } else {
        this.#queue.push(p);
      }
      this.#pump();
      // Queued behind a stall already under way (the pump did not run): it waits for its end.
      if (p.sent !== true && this.#timer !== undefined) p.waited = true;
    });
  }

  /**
   * Spend at most `maxPerMinute` weight a minute from now on; never raises the limit. For a
   * shared client a later user knows less is left on the IP (orders placed beside it).
   */
  lowerWeightLimit(maxPerMinute: number): void {
    requirePositiveInteger('maxWeightPerMinute', maxPerMinute);
    this.#budget.lower(maxPerMinute);
  }

  stats(): RestClientStats {
    return {
      ...this.#counts,
      inFlight: this.#inFlight,
      pending: this.#queue.length,
      weightUsed: this.#budget.used,
      maxWeightPerMinute: this.#budget.maxPerMinute,
      heldUntil: this.#budget.heldUntil,
    };
  }

  #clearTimer(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #pump(): void {
    if (this.#timer !== undefined) return;
    while (this.#inFlight < this.#concurrency && this.#queue.length > 0) {
      const first = this.#queue[0]!;
      if (first.req.signal?.aborted === true) {
        // Aborted with a call before it, by one signal: pumped from that call's abort, before
        // its own listener ran. It never goes.
        this.#queue.shift();
        if (first.onAbort) first.req.signal.removeEventListener('abort', first.onAbort);
        first.reject(aborted(first.req));
        continue;
      }
      const head = first.req;
      const wait = this.#budget.tryTake(head.weight, head.priority === 'high');
      if (wait > 0) {
        // Counted per call, once, as each goes: a stall holds every queued call, and one call
        // may meet several (each high-priority call re-pumps the queue).
        for (const q of this.#queue) q.waited = true;
        this.#logger.debug({ waitMs: wait, pending: this.#queue.length }, 'REST budget wait');
        this.#timer = this.#clock.setTimeout(() => {
          this.#timer = undefined;
          this.#pump();
        }, wait);
        return;
      }
      const p = this.#queue.shift()!;
      p.sent = true;
      if (p.waited === true) this.#counts.budgetWaits++;
      if (p.onAbort) p.req.signal?.removeEventListener('abort', p.onAbort);
      this.#inFlight++;
      void this.#run(p).finally(() => {
        this.#inFlight--;
        this.#pump();
      });
    }
  }

  async #run(p: Pending): Promise<void> {
    const { req } = p;
    const method = req.method ?? 'GET';
    // Names the call in errors and logs: the path only, since queries can carry signatures.
    const what = `${method} ${req.path}`;
    this.#counts.requests++;
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    req.signal?.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const timer = this.#clock.setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#timeoutMs);
    const started = this.#clock.monotonic();
    try {
      const res = await untilAborted(
        this.#fetch(this.#url(req), {
          method,
          headers: req.apiKey === undefined ? {} : { 'X-MBX-APIKEY': req.apiKey },
          signal: controller.signal,
          // A redirect could carry the API key header to another host.
          redirect: 'error',
        }),
        controller.signal,
      );
      // Before the body: the venue counted the weight even if we refuse what it sent.
      const used = Number(res.headers.get('x-mbx-used-weight-1m'));
      if (Number.isFinite(used) && used > 0) this.#budget.observe(used);
      const text = await readBody(res, this.#maxBodyBytes, controller.signal);
      this.#logger.debug(
        { call: what, status: res.status, ms: this.#clock.monotonic() - started },
        'REST answer',
      );
      if (res.ok) {
        if (text === undefined) throw this.#tooLarge(res.status, what);
        p.resolve(decodeBody(text, what));
        return;
      }
      // The status is what matters (a 429 must still hold the budget, a 401 still mean a
      // refused key); an oversized error body only loses the venue's detail.
      const retryAfter = res.headers.get('retry-after') ?? undefined;
      throw this.#failure(res.status, retryAfter, text ?? '', what);
    } catch (err) {
      this.#counts.failures++;
      p.reject(this.#toError(err, what, timedOut, req));
    } finally {
      this.#clock.clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
    }
  }

  #failure(
    status: number,
    retryAfter: string | undefined,
    text: string,
    what: string,
  ): UnifeedError {
    const venue = venueError(text);
    const detail = venue === undefined ? '' : `: ${venue.code} ${venue.msg}`;
    if (status === 429 || status === 418) {
      const now = this.#clock.now();
      const retryAfterMs = rateLimitHoldMs(status, parseRetryAfter(retryAfter, now))!;
      this.#budget.hold(retryAfterMs);
      if (status === 429) this.#counts.status429++;
      else this.#counts.status418++;
      this.#logger.warn({ call: what, status, retryAfterMs }, 'REST rate limited; holding calls');
      return new UnifeedError(ErrorCode.RateLimited, `${what} answered ${status}${detail}`, {
        status,
        retryAfterMs,
        venueCode: venue?.code,
      });
    }
    return new UnifeedError(ErrorCode.Http, `${what} answered ${status}${detail}`, {
      status,
      venueCode: venue?.code,
    });
  }

  #tooLarge(status: number, what: string): UnifeedError {
    this.#logger.warn(
      { call: what, status, maxBodyBytes: this.#maxBodyBytes },
      'REST answer over maxBodyBytes; refused',
    );
    return new UnifeedError(
      ErrorCode.BodyTooLarge,
      `${what}: answer over ${this.#maxBodyBytes} bytes refused`,
      { status },
    );
  }

  #toError(err: unknown, what: string, timedOut: boolean, req: RestRequest): UnifeedError {
    if (err instanceof UnifeedError) return err;
    if (timedOut) {
      return new UnifeedError(ErrorCode.HttpTimeout, `${what}: no answer in ${this.#timeoutMs} ms`);
    }
    if (req.signal?.aborted) return aborted(req);
    // The network error's own message can quote the URL, and with it a signed query.
    return new UnifeedError(ErrorCode.Http, `${what}: network error`);
  }

  #url(req: RestRequest): string {
    let url = this.baseUrl + req.path;
    if (req.query !== undefined) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(req.query)) q.append(k, String(v));
      const s = q.toString();
      if (s !== '') url += `?${s}`;
    }
    return url;
  }
}

const METHODS: ReadonlySet<unknown> = new Set(['GET', 'POST', 'PUT', 'DELETE', undefined]);

/**
 * Why `req` cannot be sent, if it cannot. The path is joined to the base URL as text, so one
 * that does not start with `/` would move the call, and its API key header, to another host
 * (`.evil.example/x` after `https://api.binance.com`) or port (`:8443/x`); a query or fragment
 * in it would escape `query`'s encoding.
 */
function refusal(req: RestRequest): UnifeedError | undefined {
  if (typeof req.path !== 'string' || !/^\/[^?#]*$/.test(req.path)) {
    return new UnifeedError(
      ErrorCode.InvalidOption,
      "a REST call's `path` must start with '/' and hold no '?' or '#' (the query goes in `query`)",
    );
  }
  if (!METHODS.has(req.method)) {
    return new UnifeedError(
      ErrorCode.InvalidOption,
      `${req.path}: \`method\` must be GET, POST, PUT or DELETE`,
    );
  }
  // Anything else would queue as `normal`: a listen-key keepalive spelt 'HIGH' would wait
  // behind a mass resync, and the key expire.
  if (req.priority !== undefined && req.priority !== 'high' && req.priority !== 'normal') {
    return new UnifeedError(
      ErrorCode.InvalidOption,
      `${req.path}: \`priority\` must be 'high' or 'normal', not ${quoted(req.priority)}`,
    );
  }
  return undefined;
}

function aborted(req: RestRequest): UnifeedError {
  return new UnifeedError(ErrorCode.Stopped, `${req.method ?? 'GET'} ${req.path} was cancelled`);
}

// Stateless between calls without `{ stream: true }`, so one serves every client.
const utf8 = new TextDecoder();

/**
 * `promise`, or its signal's abort, whichever comes first. Node's fetch rejects on abort by
 * itself; one that ignores the signal until its headers come would hold the call, and its
 * concurrency slot, for ever. A response that comes after the abort is let go of.
 */
function untilAborted(promise: Promise<Response>, signal: AbortSignal): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    const onAbort = (): void => {
      reject(signal.reason);
      promise.then((res) => res.body?.cancel().catch(noop), noop);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (res) => {
        signal.removeEventListener('abort', onAbort);
        resolve(res);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/**
 * The body as text, or `undefined` once it exceeds `limit` bytes; the rest is then cancelled,
 * so that an endless answer neither fills memory nor holds its connection. Decoded once at the
 * end, so a character split across chunks decodes as `res.text()` would (BOM dropped, invalid
 * bytes replaced). `signal` (the call's timeout or its caller's abort) ends the read even
 * when the body ignores it, as a `fetch` other than Node's may let it: the call, and its
 * place among `concurrency`, would otherwise wait for ever on a body that stalls.
 */
async function readBody(
  res: Response,
  limit: number,
  signal: AbortSignal,
): Promise<string | undefined> {
  const body = res.body;
  if (body === null) return '';
  // Only a shortcut: the header counts the bytes on the wire (compressed ones, if so) and may
  // be absent, so the bytes read are counted regardless.
  if (Number(res.headers.get('content-length')) > limit) {
    body.cancel().catch(noop);
    return undefined;
  }
  const reader = body.getReader();
  // Cancelling the reader settles a pending read(): the loop then sees the abort.
  const onAbort = (): void => void reader.cancel().catch(noop);
  signal.addEventListener('abort', onAbort, { once: true });
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    signal.throwIfAborted();
    for (;;) {
      const { done, value } = await reader.read();
      signal.throwIfAborted();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        // Not awaited: a source that never settles its cancel must not hang the call.
        reader.cancel().catch(noop);
        return undefined;
      }
      chunks.push(value);
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  if (chunks.length === 1) return utf8.decode(chunks[0]);
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return utf8.decode(all);
}

const noop = (): void => {};

function decodeBody(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UnifeedError(ErrorCode.Decode, `${what}: the answer is not JSON`);
  }
}

/** Binance's `{"code":-1121,"msg":"Invalid symbol."}`, when the body is one. */
function venueError(text: string): { code: number; msg: string } | undefined {
  try {
    const body = JSON.parse(text) as { code?: unknown; msg?: unknown } | null;
    if (body !== null && typeof body.code === 'number') {
      // The message is the venue's and short; cut it so that an echoed input cannot flood logs.
      return { code: body.code, msg: excerpt(String(body.msg ?? ''), VENUE_TEXT_MAX) };
    }
  } catch {
    // not JSON: the status alone describes the failure
  }
  return undefined;
}

/**
 * Share of a venue's REST weight limit that unifeed's shared clients spend: orders and other
 * processes on the same IP keep the rest.
 */
export const REST_WEIGHT_SHARE = 0.8;

/**
 * The process-wide client for a venue's REST host at {@link REST_WEIGHT_SHARE} of its weight
 * limit: what order books and account feeds use unless given their own.
 */
export function venueRestClient(
  venue: { readonly restUrl: string; readonly limits: { readonly restWeightPerMinute: number } },
  options: Omit<RestClientOptions, 'baseUrl' | 'maxWeightPerMinute'> = {},
): RestClient {
  requireObject('the venue of venueRestClient', venue);
  requireObject('the limits of the venue of venueRestClient', venue.limits);
  requireObject('the options of venueRestClient', options);
  // The venue's limit sizes the client when this call makes it. One made already keeps the
  // lower of the two: an account feed (whose venue has the default limits) must share a book's
  // client whose venue lowered the limit, not be refused for a limit it never chose, and a book
  // whose venue lowered it (orders on the same IP) must not spend the account feed's higher one.
  // A stated limit of 0, a negative or a fraction is refused: made 1 a minute, it would lower
  // the host's shared client to nothing, without an error. At least 1 is derived: a venue
  // stating 1 would otherwise derive 0.
  requirePositiveInteger('venue.limits.restWeightPerMinute', venue.limits.restWeightPerMinute);
  const maxWeightPerMinute = Math.max(
    1,
    Math.floor(venue.limits.restWeightPerMinute * REST_WEIGHT_SHARE),
  );
  const client = sharedClient({ ...options, baseUrl: venue.restUrl }, { maxWeightPerMinute });
  client.lowerWeightLimit(maxWeightPerMinute);
  return client;
}

/**
 * A base URL as calls are made below it: origin and path (a proxy may serve the venue below
 * one), no trailing slash.
 */
function baseUrlOf(url: string): string {
  const base = requireSecureUrl(url, 'REST base URL');
  return base.origin + base.pathname.replace(/\/+$/, '');
}

interface SharedClient {
  readonly client: RestClient;
  /** What its first caller set, to check later callers against. */
  readonly options: RestClientOptions;
}

const shared = new WeakMap<Clock, Map<string, SharedClient>>();

/** The options a later caller of a shared client must agree with, where it sets them. */
const SHARED_SETTINGS = [
  'maxWeightPerMinute',
  'timeoutMs',
  'concurrency',
  'maxPending',
  'maxBodyBytes',
  'fetch',
] as const;

/**
 * The REST client every book and account feed of a process shares for one base URL: the
 * weight limit is the venue's per IP, so two clients with two budgets would spend it twice.
 * Keyed by the whole base URL, not the host: a gateway serving spot under `/spot` and futures
 * under `/fapi` fronts two venues, with two paths and two limits. The first caller's options
 * make it; a later caller that sets one differently (a limit, a timeout, a `fetch`) is refused
 * rather than given a client that ignores it. The logger is the first caller's.
 */
export function sharedRestClient(options: RestClientOptions): RestClient {
  return sharedClient(requireObject('the options of sharedRestClient', options), {});
}

/**
 * The shared client of `options`' base URL and clock: made with `made` under `options` if
 * there is none, else the existing one, if `options` (not `made`, which is no caller's choice)
 * sets nothing differently.
 */
function sharedClient(options: RestClientOptions, made: Partial<RestClientOptions>): RestClient {
  const clock = options.clock ?? realClock;
  let byBase = shared.get(clock);
  if (!byBase) shared.set(clock, (byBase = new Map()));
  const base = baseUrlOf(options.baseUrl);
  const existing = byBase.get(base);
  if (!existing) {
    const first = { ...made, ...options, clock };
    const client = new RestClient(first);
    byBase.set(base, { client, options: first });
    return client;
  }
  for (const name of SHARED_SETTINGS) {
    const wanted = options[name];
    const had =
      name === 'maxWeightPerMinute'
        ? existing.client.stats().maxWeightPerMinute // as lowered since (venueRestClient)
        : (existing.options[name] ?? (name === 'fetch' ? undefined : REST_DEFAULTS[name]));
    if (wanted === undefined || wanted === had) continue;
    throw new UnifeedError(
      ErrorCode.InvalidOption,
      `the shared REST client for ${base} was made with \`${name}\` ${shown(had)}, not ${shown(wanted)}: pass the same, or make a RestClient of your own`,
    );
  }
  return existing.client;
}

/** A setting in a message; a function's source would be noise. */
function shown(value: unknown): string {
  if (value === undefined) return 'the global one';
  return typeof value === 'function' ? 'a function of its own' : quoted(value);
}
