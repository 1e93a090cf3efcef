import type { RouteGroup, VenueProfile } from '../venue.js';
import type { ConnectionRoute } from './connection.js';

/**
 * The URL of a request line, or undefined when it cannot be one (`GET // HTTP/1.1`, `//[`):
 * `new URL` throws on those, and a throw in a server's request or upgrade handler would end
 * the process the simulator runs in, with every test or soak of it.
 */
export function requestUrl(path: string | undefined): URL | undefined {
  try {
    return new URL(path ?? '/', 'http://localhost');
  } catch {
    return undefined;
  }
}

/** A WebSocket path understood: what kind of connection, and the streams it names. */
export interface ParsedRoute {
  info: ConnectionRoute;
  streams: string[];
}

/**
 * Map a WebSocket URL to a connection kind, the way Binance's paths work: spot `/ws`,
 * `/ws/<stream>`, `/stream?streams=`, `/ws-api/v3`; futures the same behind `/public`,
 * `/market` or `/private` (or un-routed). Undefined for a path the venue does not serve.
 */
export function routeOf(venue: VenueProfile, url: URL): ParsedRoute | undefined {
  if (venue.dialect === 'upbit') {
    // One endpoint; streams are only ever asked for by request.
    if (url.pathname !== '/websocket/v1') return undefined;
    return {
      info: { route: 'any', combined: false, api: false, listenKey: undefined },
      streams: [],
    };
  }
  let path = url.pathname;
  let route: RouteGroup = 'any';
  if (venue.futures) {
    for (const g of ['public', 'market', 'private'] as const) {
      if (path.startsWith(`/${g}/`)) {
        route = g;
        path = path.slice(g.length + 1);
        break;
      }
    }
  }
  const listenKey = url.searchParams.get('listenKey') ?? undefined;
  const events = url.searchParams.get('events');
  const base = {
    route,
    api: false,
    listenKey,
    ...(events === null ? {} : { events: new Set(events.split('/')) }),
  };
  if (!venue.futures && path === '/ws-api/v3') {
    return { info: { ...base, combined: false, api: true }, streams: [] };
  }
  if (path === '/ws') return { info: { ...base, combined: false }, streams: [] };
  if (path.startsWith('/ws/')) {
    const tail = path.slice(4);
    if (route === 'private')
      return { info: { ...base, combined: false, listenKey: tail }, streams: [] };
    return { info: { ...base, combined: false }, streams: tail.split('/').filter((s) => s !== '') };
  }
  if (path === '/stream') {
    const list = url.searchParams.get('streams') ?? '';
    return { info: { ...base, combined: true }, streams: list.split('/').filter((s) => s !== '') };
  }
  return undefined;
}
