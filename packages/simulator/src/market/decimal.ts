/**
 * Format an integer count of `10^-decimals` units as an exact decimal string, the way
 * Binance sends prices and quantities ("25.35190000"). Integer arithmetic only, so no
 * floating-point noise can leak into a payload.
 */
export function formatUnits(units: number, decimals: number): string {
  const negative = units < 0;
  const digits = String(Math.abs(Math.round(units)));
  if (decimals === 0) return negative ? `-${digits}` : digits;
  const padded = digits.padStart(decimals + 1, '0');
  const cut = padded.length - decimals;
  const text = `${padded.slice(0, cut)}.${padded.slice(cut)}`;
  return negative ? `-${text}` : text;
}
