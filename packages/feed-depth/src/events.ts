/** One price level: price and quantity, exactly as the venue wrote them. */
export type Level = readonly [price: string, quantity: string];

/** A partial book (`<symbol>@depth<5|10|20>`): the top levels, replaced whole on every push. */
export interface PartialDepthEvent {
  readonly type: 'partialDepth';
  readonly venue: string;
  readonly stream: string;
  /** Upper case; taken from the stream name where the payload has none (spot). */
  readonly symbol: string;
  /** The book's update id (spot `lastUpdateId`, futures `u`). */
  readonly lastUpdateId: number;
  /** Futures only. */
  readonly eventTime: number | undefined;
  /** Best first. */
  readonly bids: readonly Level[];
  /** Best first. */
  readonly asks: readonly Level[];
}

/** One diff event (`<symbol>@depth`): absolute quantities, "0" removes a level. */
export interface DepthDiffEvent {
  readonly type: 'depthDiff';
  readonly venue: string;
  readonly stream: string;
  readonly symbol: string;
  readonly eventTime: number;
  /** First update id in the event. */
  readonly firstUpdateId: number;
  /** Last update id in the event. */
  readonly lastUpdateId: number;
  /** Futures: the previous event's `lastUpdateId` (`pu`); undefined on spot. */
  readonly previousUpdateId: number | undefined;
  /** In the venue's order, which differs by venue: never rely on it. */
  readonly bids: readonly Level[];
  readonly asks: readonly Level[];
}
