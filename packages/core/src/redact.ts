/**
 * Redaction of secrets from text, with no imports: errors.ts runs every message through it,
 * and `@unifeed/core/fields` (pure, for replaying recorded data) reaches errors.ts.
 */

/** Query parameters whose values are secrets wherever they appear in a URL. */
const SECRET_PARAMS = /([?&](?:listenKey|apiKey|signature|secret|timestamp|token)=)[^&#]*/gi;
/**
 * A run of 40 or more base-62 characters, wherever it stands: a Binance listen key (a path
 * segment, a `streams=` value, a name quoted in an error) or a hex signature. Nothing public in
 * a venue URL is that long, and a key is still a key when a quote or a dot follows it. The
 * price: a 40-letter value quoted back in an error is blanked too.
 */
const KEY_RUN = /(?<![A-Za-z0-9])[A-Za-z0-9]{40,}(?![A-Za-z0-9])/g;
/**
 * Userinfo in a URL quoted in free text, after a WebSocket or HTTP scheme. With `//` it ends
 * at the authority's last `@` (a password may hold one, or a quote), before any `/?#`; without
 * (WHATWG URL parsing reads `ws:user:pw@host` and `ws:\\user:pw@host` as credentials too) it
 * also stops at a space or a quote. Bounded, and tried only where a word starts, so that a
 * long text costs linear time.
 */
const USERINFO = /(?<![a-z0-9+.-])((?:wss?|https?):)(\/\/[^/?#]{0,512}@|\\*[^\s/\\?#'"]{0,512}@)/gi;

/**
 * A URL, or a text that may quote one (an error message), fit for a log line or an error:
 * credentials are dropped, and secret query values and key-like runs are replaced by
 * `[redacted]`.
 */
export function redactUrl(text: string): string {
  return withoutUserinfo(text)
    .replace(SECRET_PARAMS, '$1[redacted]')
    .replace(KEY_RUN, '[redacted]');
}

function withoutUserinfo(text: string): string {
  // A URL on its own: the parser knows where its userinfo ends, whatever the password holds.
  // Any other text (which may still parse, as `error: ...` does, a scheme and a path) is
  // searched for URLs in it.
  if (WEB_SCHEME.test(text)) {
    try {
      const url = new URL(text);
      if (url.username === '' && url.password === '') return text;
      url.username = '';
      url.password = '';
      return url.href;
    } catch {
      // Not a URL after all: searched below.
    }
  }
  return text.replace(USERINFO, (_, scheme: string, rest: string) =>
    rest.startsWith('//') ? `${scheme}//` : scheme,
  );
}

const WEB_SCHEME = /^(?:wss?|https?):/i;

/** Most characters of a venue's error message quoted in ours: enough for any real one. */
export const VENUE_TEXT_MAX = 200;

/** Characters a terminal acts on (C0, DEL, C1): a venue's text must not retitle or clear it. */
// eslint-disable-next-line no-control-regex -- control characters are what it finds
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
/** How far past `max` a text is read before it is redacted: more than any key is long. */
const EXCERPT_SLACK = 256;

/**
 * At most `max` characters of a text that is not ours (a venue's error message, a caller's
 * value) for an error message or a log line: redacted, control characters as spaces. Cut to
 * `max` plus a slack first, so that a megabyte of text costs no more than a line: the cut puts
 * `…` for the alphanumeric run it lands in, which could be part of a key too short to pass for
 * one.
 * Redacted before the final cut, for the same reason.
 */
export function excerpt(text: string, max: number): string {
  const head =
    text.length > max + EXCERPT_SLACK
      ? text.slice(0, max + EXCERPT_SLACK).replace(/[A-Za-z0-9]+$/, '…')
      : text;
  return redactUrl(head).replace(CONTROL, ' ').slice(0, max);
}
