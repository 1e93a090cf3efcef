/**
 * User-data payloads as raw text. The protocol.md examples verbatim where it gives them whole;
 * where it elides values (`..`) they are filled in, and the newer fields are added in the
 * variants that test them. Ids above 2^53 are written as bare integers, as captured.
 */

/** protocol.md, verbatim. */
export const ACCOUNT_UPDATE = `{"e":"ACCOUNT_UPDATE","E":1564745798939,"T":1564745798938,"a":{"m":"ORDER","B":[{"a":"USDT","wb":"122624.12345678","cw":"100.12345678","bc":"50.12345678"}],"P":[{"s":"BTCUSDT","pa":"0","ep":"0.00000","bep":"0","cr":"200","up":"0","mt":"isolated","iw":"0.00000000","ps":"BOTH"}]}}`;

/** A 2021 ACCOUNT_UPDATE: no `bc`, no `bep`. */
export const ACCOUNT_UPDATE_2021 = `{"e":"ACCOUNT_UPDATE","E":1620000000000,"T":1620000000000,"a":{"m":"FUNDING_FEE","B":[{"a":"USDT","wb":"10.5","cw":"10.5"}],"P":[{"s":"ETHUSDT","pa":"-2.5","ep":"3000.1","cr":"0","up":"-1.2","mt":"cross","iw":"0","ps":"SHORT"}]}}`;

/** protocol.md's field list with values, the order id above 2^53 as captured. */
export const ORDER_TRADE_UPDATE = `{"e":"ORDER_TRADE_UPDATE","E":1568879465651,"T":1568879465650,"o":{"s":"BTCUSDT","c":"TEST","S":"SELL","o":"TRAILING_STOP_MARKET","f":"GTC","q":"0.001","p":"0","ap":"0","sp":"7103.04","x":"NEW","X":"NEW","i":8389765739703625592,"l":"0","z":"0","L":"0","N":"USDT","n":"0","T":1568879465650,"t":0,"b":"0","a":"9.91","m":false,"R":false,"wt":"CONTRACT_PRICE","ot":"TRAILING_STOP_MARKET","ps":"LONG","cp":false,"AP":"7476.89","cr":"5.0","pP":false,"si":0,"ss":0,"rp":"0"}}`;

/** A 2026 fill: adds `V`, `pm`, `gtd`, `er`, and drops `N`/`n`/`AP`/`cr`. */
export const ORDER_TRADE_UPDATE_2026 = `{"e":"ORDER_TRADE_UPDATE","E":1772000000001,"T":1772000000000,"o":{"s":"ETHUSDT","c":"web_1","S":"BUY","o":"LIMIT","f":"GTD","q":"2.000","p":"3000.10","ap":"3000.10","sp":"0","x":"TRADE","X":"PARTIALLY_FILLED","i":8389765739703625593,"l":"0.500","z":"0.500","L":"3000.10","T":1772000000000,"t":9007199254740993,"b":"0","a":"0","m":true,"R":false,"wt":"CONTRACT_PRICE","ot":"LIMIT","ps":"BOTH","cp":false,"rp":"0.00000000","V":"EXPIRE_TAKER","pm":"NONE","gtd":1772003600000,"er":"0","zz":{"new":true}}}`;

/** protocol.md, verbatim. */
export const MARGIN_CALL = `{"e":"MARGIN_CALL","E":1587727187525,"cw":"3.16812045","p":[{"s":"ETHUSDT","ps":"LONG","pa":"1.327","mt":"CROSSED","iw":"0","mp":"187.17127","up":"-1.166074","mm":"1.614445"}]}`;

/** protocol.md, verbatim: `E` is a string in this one. */
export const LISTEN_KEY_EXPIRED = `{"e":"listenKeyExpired","E":"1736996475556","listenKey":"WsCMN0a4KHUPTQuX6IUnqEZfB1inxmv1qR4kbf1LuEjur5VdbzqvyxqG9TSjVVxv"}`;

/** The captured TRADE_LITE with an order id above 2^53 (protocol.md). */
export const TRADE_LITE = `{"e":"TRADE_LITE","E":1721895408092,"T":1721895408214,"s":"BTCUSDT","q":"0.001","p":"0","m":false,"c":"z8hcUoOsqEdKMeKPSABslD","S":"BUY","L":"64089.20","l":"0.040","t":109100866,"i":8389765739703625592}`;

export const ACCOUNT_CONFIG_LEVERAGE = `{"e":"ACCOUNT_CONFIG_UPDATE","E":1611646737479,"T":1611646737476,"ac":{"s":"BTCUSDT","l":25}}`;
export const ACCOUNT_CONFIG_MULTI_ASSETS = `{"e":"ACCOUNT_CONFIG_UPDATE","E":1611646737479,"T":1611646737476,"ai":{"j":true}}`;
export const STRATEGY_UPDATE = `{"e":"STRATEGY_UPDATE","T":1669262908216,"E":1669262908218,"su":{"si":176054594,"st":"GRID","ss":"NEW","s":"BTCUSDT","ut":1669262908216,"c":8007}}`;
export const GRID_UPDATE = `{"e":"GRID_UPDATE","T":1669262908216,"E":1669262908218,"gu":{"si":176057039,"st":"GRID","ss":"WORKING","s":"BTCUSDT","r":"-0.00300716","up":"16720","uq":"-0.001","uf":"-0.00300716","mp":"0.0","ut":1669262908197}}`;
export const CONDITIONAL_ORDER_TRIGGER_REJECT = `{"e":"CONDITIONAL_ORDER_TRIGGER_REJECT","E":1685517224945,"T":1685517224955,"or":{"s":"ETHUSDT","i":155618472834,"r":"Due to the order could not be filled immediately, the FOK order has been rejected."}}`;

/** protocol.md, verbatim (spot). */
export const OUTBOUND_ACCOUNT_POSITION = `{"e":"outboundAccountPosition","E":1564034571105,"u":1564034571073,"B":[{"a":"ETH","f":"10000.0","l":"0.0"}]}`;
export const BALANCE_UPDATE = `{"e":"balanceUpdate","E":1573200697110,"a":"BTC","d":"100.0","T":1573200697068}`;
export const EXTERNAL_LOCK_UPDATE = `{"e":"externalLockUpdate","E":1581557507324,"a":"NEO","d":"10.00000000","T":1581557507268}`;
export const EVENT_STREAM_TERMINATED = `{"e":"eventStreamTerminated","E":1728973001334}`;

/** The spot docs' executionReport, with the order id above 2^53 and `N` null. */
export const EXECUTION_REPORT = `{"e":"executionReport","E":1499405658658,"s":"ETHBTC","c":"mUvoqJxFIILMdfAW5iGSOW","S":"BUY","o":"LIMIT","f":"GTC","q":"1.00000000","p":"0.10264410","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"NEW","X":"NEW","r":"NONE","i":9007199254740993,"l":"0.00000000","z":"0.00000000","L":"0.00000000","n":"0","N":null,"T":1499405658657,"t":-1,"v":3,"I":8641984,"w":true,"m":false,"M":false,"O":1499405658657,"Z":"0.00000000","Y":"0.00000000","Q":"0.00000000","W":1499405658657,"V":"NONE"}`;

export const LIST_STATUS = `{"e":"listStatus","E":1564035303637,"s":"ETHBTC","g":2,"c":"OCO","l":"EXEC_STARTED","L":"EXECUTING","r":"NONE","C":"F4QN4G8DlFATFlIUQ0cjdD","T":1564035303625,"O":[{"s":"ETHBTC","i":17,"c":"AJYsMjErWJesZvqlJCTUgL"}]}`;

/** ALGO_UPDATE as the venue documents it (a canceled take-profit, never triggered). */
export const ALGO_UPDATE = `{"e":"ALGO_UPDATE","T":1750515742297,"E":1750515742303,"o":{"caid":"Q5xaq5EGKgXXa0fD7fs0Ip","aid":2148719,"at":"CONDITIONAL","o":"TAKE_PROFIT","s":"BNBUSDT","S":"SELL","ps":"BOTH","f":"GTC","q":"0.01","X":"CANCELED","ai":"","ap":"0.00000","aq":"0.00000","act":"0","tp":"750","p":"750","V":"EXPIRE_MAKER","wt":"CONTRACT_PRICE","pm":"NONE","cp":false,"pP":false,"R":false,"tt":0,"gtd":0}}`;

/** ALGO_UPDATE of a triggered order, its matching-engine order id beyond 2^53. */
export const ALGO_UPDATE_TRIGGERED = `{"e":"ALGO_UPDATE","T":1750515742297,"E":1750515742303,"o":{"caid":"c1","aid":2148720,"at":"CONDITIONAL","o":"STOP_MARKET","s":"BTCUSDT","S":"BUY","q":"0.002","X":"TRIGGERED","ai":8389765739703625593,"ap":"64001.10","aq":"0.002","tp":"64000"}}`;
