/** RFC 6455 opcodes and close codes, for the reader, the writer and the feed alike. */

export const OP_CONTINUATION = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

export const CLOSE_NORMAL = 1000;
export const CLOSE_PROTOCOL = 1002;
/** Never on the wire: a close frame that carried no code. */
export const CLOSE_NO_STATUS = 1005;
/** Never on the wire: the connection ended without a close frame. */
export const CLOSE_ABNORMAL = 1006;
export const CLOSE_INVALID_DATA = 1007;
export const CLOSE_TOO_BIG = 1009;
