import type { WebSocketConstructor } from '../src/transport.js';

/**
 * A DOM-style socket under the test's full control: it never opens, closes or delivers
 * anything by itself, so a test can fire events on a socket the feed has already replaced.
 */
export class FakeSocket {
  static instances: FakeSocket[] = [];
  readyState = 0;
  binaryType = 'blob';
  sent: string[] = [];
  closedWith: number | undefined | null = null;
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
  close(code?: number): void {
    this.closedWith = code;
  }
  // Events a test fires. They go to whatever handlers are set now, as a real socket would.
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  message(data: string): void {
    this.onmessage?.({ data });
  }
  serverClose(code = 1006, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

export const FakeWebSocket = FakeSocket as unknown as WebSocketConstructor;
