import { UnifiedFeed, type FeedStatus, type UnifiedFeedOptions } from '@unifeed/core';
import type { Subscription } from 'rxjs';

/** What a {@link Link} tells its owner; the link is passed so that stale ones can be told apart. */
export interface LinkEvents {
  message(data: unknown, link: Link): void;
  status(status: FeedStatus, link: Link): void;
}

/**
 * One UnifiedFeed and the owner's subscriptions to it, created and torn down together. The
 * futures feed replaces its link when the listen key changes, and a replaced link may still
 * report while it closes, so every message and status says which link it came from.
 */
export class Link {
  readonly feed: UnifiedFeed;
  /** Times its socket opened. */
  opens = 0;
  readonly #subs: Subscription[];

  constructor(options: UnifiedFeedOptions, events: LinkEvents) {
    this.feed = new UnifiedFeed(options);
    this.#subs = [
      this.feed.status$.subscribe((s) => {
        if (s.type === 'open') this.opens++;
        events.status(s, this);
      }),
      this.feed.messages$.subscribe((m) => events.message(m.data, this)),
    ];
  }

  /** Connect; failures are retried by the feed and reported as statuses, never thrown. */
  start(): void {
    void this.feed.start().catch(() => {});
  }

  async stop(): Promise<void> {
    await this.feed.stop();
    for (const s of this.#subs) s.unsubscribe();
  }
}
