/**
 * A value from a client's frame as text, for an error message or a signature's payload.
 * `String()` throws on an object whose `toString` is not a function (`{"toString":0}`), and
 * nothing a client sends may crash the simulator: objects are shown as their JSON.
 */
export function printable(value: unknown): string {
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}
