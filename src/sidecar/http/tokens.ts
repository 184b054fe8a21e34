// Byte-class tables from RFC 9110/9112, precompiled so the codecs test a byte with one array load, not a regex.

function table(accept: (byte: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let b = 0; b < 256; b++) t[b] = accept(b) ? 1 : 0;
  return t;
}

const TCHAR_SYMBOLS = "!#$%&'*+-.^_`|~";

/** tchar (RFC 9110 §5.6.2): the bytes allowed in a header name, a method, a chunk-extension name. */
export const TCHAR = table(
  (b) =>
    (b >= 0x30 && b <= 0x39) ||
    (b >= 0x41 && b <= 0x5a) ||
    (b >= 0x61 && b <= 0x7a) ||
    TCHAR_SYMBOLS.includes(String.fromCharCode(b)),
);

/** field-vchar, SP and HTAB (RFC 9110 §5.5): everything but CTLs (NUL, CR, LF, DEL...) may appear in a value. */
export const FIELD_VALUE = table((b) => b === 0x09 || (b >= 0x20 && b !== 0x7f));

/** Bytes allowed in a request-target: visible ASCII. No spaces, no controls, no raw UTF-8. */
export const TARGET_CHAR = table((b) => b > 0x20 && b < 0x7f);

/** Bytes of a Host value or an authority: reg-name / IP-literal / port characters and pct-encoding, no userinfo. */
export const AUTHORITY_CHAR = (() => {
  const t = new Uint8Array(256);
  for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:[]%") {
    t[c.charCodeAt(0)] = 1;
  }
  return t;
})();

/** Reason-phrase bytes (RFC 9112 §4): HTAB, SP, VCHAR, obs-text. */
export const REASON_CHAR = FIELD_VALUE;

/** Hex digit values, or 255 for a non-hex byte. */
export const HEX_VALUE = (() => {
  const t = new Uint8Array(256).fill(255);
  for (let i = 0; i < 10; i++) t[0x30 + i] = i;
  for (let i = 0; i < 6; i++) {
    t[0x41 + i] = 10 + i;
    t[0x61 + i] = 10 + i;
  }
  return t;
})();

/** qdtext and the second byte of a quoted-pair inside a quoted chunk-extension value. */
export const QDTEXT = table(
  (b) => b === 0x09 || b === 0x20 || (b >= 0x21 && b !== 0x22 && b !== 0x5c && b !== 0x7f),
);

const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const VALUE_RE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** True when `name` is a valid header name (a non-empty token). */
export function isToken(name: string): boolean {
  return TOKEN_RE.test(name);
}

/** True when `value` can be written in a header without splitting it (no CR, LF, NUL or other CTL). */
export function isFieldValue(value: string): boolean {
  return VALUE_RE.test(value);
}

/**
 * The request methods the codec accepts: RFC 9110 plus the WebDAV/UPnP set, all of which llhttp (node:http's
 * parser) also accepts. An unknown method is refused rather than guessed at.
 */
export const METHODS: readonly string[] = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
  'COPY',
  'LOCK',
  'MKCOL',
  'MOVE',
  'PROPFIND',
  'PROPPATCH',
  'SEARCH',
  'UNLOCK',
  'BIND',
  'REBIND',
  'UNBIND',
  'ACL',
  'REPORT',
  'MKACTIVITY',
  'CHECKOUT',
  'MERGE',
  'M-SEARCH',
  'NOTIFY',
  'SUBSCRIBE',
  'UNSUBSCRIBE',
  'PURGE',
  'MKCALENDAR',
  'LINK',
  'UNLINK',
];

/** Methods RFC 9110 §9.2.2 calls idempotent: safe to send again when a pooled connection turns out stale. */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'OPTIONS',
  'TRACE',
  'PUT',
  'DELETE',
]);
