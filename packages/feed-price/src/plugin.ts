import {
  ErrorCode,
  requireList,
  requireObject,
  UnifeedError,
  type FeedPlugin,
  type Venue,
} from '@unifeed/core';
import type { Parser } from './parse.js';
import { streamSymbol } from '@unifeed/core/fields';

/** Cadence of a stream on one venue: ms between pushes, or `event` for event-driven streams. */
export type Cadence = number | 'event';

/** What a price plugin is made of: data and pure functions, nothing about sockets. */
export interface PluginSpec<P, E> {
  /** For errors and stats. */
  readonly name: string;
  /**
   * Per venue name, the cadence of this kind's streams (a function when it depends on the
   * stream, as `@markPrice` vs `@markPrice@1s`). A venue absent here does not have the kind.
   */
  readonly venues: Readonly<Record<string, Cadence | ((stream: string) => Cadence)>>;
  /**
   * The stream names for `params` on the venue named `venue`; throws
   * `UNIFEED_INVALID_STREAM` on a bad parameter.
   */
  names(params: P, venue: string): string[];
  readonly parse: Parser<E>;
  /** The event's id, for streams that have one (see `FeedPlugin.sequence`). @default none */
  readonly sequence?: (event: E) => number;
  /**
   * Every parameter is optional, so `undefined` stands for `{}` (the all-market plugins).
   * @default false: the parameters are an object
   */
  readonly optionalParams?: boolean;
}

/** A {@link FeedPlugin} from a spec: the venue check happens in `streams`, at the call. */
export function definePlugin<P, E>(spec: PluginSpec<P, E>): FeedPlugin<P, E> {
  const cadenceOf = (stream: string, venue: Venue): Cadence | undefined => {
    const c = spec.venues[venue.name];
    return typeof c === 'function' ? c(stream) : c;
  };
  return {
    name: spec.name,
    streams(params, venue) {
      if (!Object.hasOwn(spec.venues, venue.name)) {
        throw new UnifeedError(
          ErrorCode.InvalidStream,
          `${venue.name} has no ${spec.name} stream (it exists on ${Object.keys(spec.venues).join(', ')})`,
        );
      }
      // Untyped callers pass `null`, a symbol, an array of symbols: refused here rather than
      // a TypeError from deep inside, or read as no parameters at all.
      const given = requireObject(
        `the parameters of ${spec.name}`,
        params as object | undefined,
        spec.optionalParams === true,
      );
      return spec.names(given as P, venue.name);
    },
    parse: (payload, stream, venue) => spec.parse(payload, stream, venue.name),
    ...(spec.sequence === undefined ? {} : { sequence: spec.sequence }),
    cadenceMs(stream, venue) {
      const c = cadenceOf(stream, venue);
      return typeof c === 'number' ? c : undefined;
    },
  };
}

/** `<symbol>@<suffix>` for every symbol; at least one symbol. */
export function perSymbol(symbols: readonly string[], suffix: string): string[] {
  return requireList('symbols', symbols).map((s) => `${streamSymbol(s)}@${suffix}`);
}
