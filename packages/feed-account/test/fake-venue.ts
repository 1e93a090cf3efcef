import { flushMicrotasks, type ManualClock } from '@unifeed/core/testing';

/** A DOM-style socket that does nothing by itself: the test opens it and delivers frames. */
export class FakeSocket {
  static instances: FakeSocket[] = [];
  readyState = 0;
  binaryType = 'blob';
  /** Every frame the client sent. */
  readonly sent: string[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.instances.push(this);
  }
  send(data: string): void {
    this.sent.push(data);
  }
  close(code = 1000): void {
    this.readyState = 3;
    queueMicrotask(() => this.onclose?.({ code, reason: '' }));
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  frame(data: string): void {
    this.onmessage?.({ data });
  }
}

/** Listen-key calls answered at once: POST gives the key, PUT and DELETE `{}`. */
export const fakeVenue: typeof fetch = (_input, init) =>
  Promise.resolve(
    new Response(init?.method === 'POST' ? '{"listenKey":"k1"}' : '{}', {
      status: 200,
      headers: { 'content-type': 'application/json' },
    }),
  );

/** Let the fake fetch's promises and the feed's drain run; no real time passes. */
export async function settle(clock: ManualClock): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await new Promise<void>((r) => setImmediate(r));
    await clock.advance(0);
    await flushMicrotasks();
  }
}
