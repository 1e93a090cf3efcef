/**
 * The example payloads of ../shared/docs/protocol.md, copied exactly. Where the document
 * elides a value (`"E":..`) the nearest concrete value it gives is filled in, and said so.
 */
import { binanceSpot, binanceUsdm } from '@unifeed/core';

export const spot = binanceSpot();
export const usdm = binanceUsdm();

/** Spot `<s>@aggTrade`, exactly as protocol.md. */
export const SPOT_AGG_TRADE = `{"e":"aggTrade","E":1672515782136,"s":"BNBBTC","a":12345,"p":"0.001","q":"100","f":100,"l":105,"T":1672515782136,"m":true,"M":true}`;
/** Spot `<s>@trade`; protocol.md elides `E` and `T` (`..`): the aggTrade example's times. */
export const SPOT_TRADE = `{"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":1672515782136,"m":true,"M":true}`;
/** Spot `<s>@miniTicker`; `E` and `s` elided in protocol.md. */
export const SPOT_MINI_TICKER = `{"e":"24hrMiniTicker","E":1672515782136,"s":"BNBBTC","c":"0.0025","o":"0.0010","h":"0.0025","l":"0.0010","v":"10000","q":"18"}`;
/** Spot `<s>@ticker`; `E` and `s` elided in protocol.md. */
export const SPOT_TICKER = `{"e":"24hrTicker","E":1672515782136,"s":"BNBBTC","p":"0.0015","P":"250.00","w":"0.0018","x":"0.0009","c":"0.0025","Q":"10","b":"0.0024","B":"10","a":"0.0026","A":"100","o":"0.0010","h":"0.0025","l":"0.0010","v":"10000","q":"18","O":0,"C":86400000,"F":0,"L":18150,"n":18151}`;
/** Spot `<s>@bookTicker`, no `e`/`E`, exactly as protocol.md. */
export const SPOT_BOOK_TICKER = `{"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}`;

/** Futures aggTrade: "like spot plus `nq`, no `M`". */
export const USDM_AGG_TRADE = `{"e":"aggTrade","E":1672515782136,"s":"BNBBTC","a":12345,"p":"0.001","q":"100","nq":"100","f":100,"l":105,"T":1672515782136,"m":true}`;
/** Futures ticker: "as spot minus `x b B a A`". */
export const USDM_TICKER = `{"e":"24hrTicker","E":1672515782136,"s":"BNBBTC","p":"0.0015","P":"250.00","w":"0.0018","c":"0.0025","Q":"10","o":"0.0010","h":"0.0025","l":"0.0010","v":"10000","q":"18","O":0,"C":86400000,"F":0,"L":18150,"n":18151}`;
/** Futures bookTicker, exactly as protocol.md. */
export const USDM_BOOK_TICKER = `{"e":"bookTicker","u":400900217,"E":1568014460893,"T":1568014460891,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}`;
/** Futures markPrice, exactly as protocol.md. */
export const USDM_MARK_PRICE = `{"e":"markPriceUpdate","E":1562305380000,"s":"BTCUSDT","p":"11794.15000000","ap":"11794.15000000","i":"11784.62659091","P":"11784.25641265","r":"0.00038167","T":1562306400000}`;
