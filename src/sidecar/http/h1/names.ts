// Common header names as interned lower-case strings, matched on the raw bytes without building a string.

const COMMON = [
  'accept',
  'accept-encoding',
  'accept-language',
  'accept-ranges',
  'access-control-allow-origin',
  'age',
  'authorization',
  'b3',
  'cache-control',
  'connection',
  'content-encoding',
  'content-length',
  'content-type',
  'cookie',
  'date',
  'etag',
  'expect',
  'expires',
  'grpc-encoding',
  'grpc-message',
  'grpc-status',
  'grpc-timeout',
  'host',
  'if-modified-since',
  'if-none-match',
  'keep-alive',
  'last-modified',
  'location',
  'origin',
  'pragma',
  'range',
  'referer',
  'server',
  'set-cookie',
  'te',
  'traceparent',
  'tracestate',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'vary',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-spanid',
  'x-b3-traceid',
  'x-envoy-attempt-count',
  'x-forwarded-client-cert',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-request-id',
];

/** Candidates by length, so a miss costs a length check. */
const BY_LENGTH: string[][] = [];
for (const name of COMMON) {
  const bucket = BY_LENGTH[name.length];
  if (bucket === undefined) BY_LENGTH[name.length] = [name];
  else bucket.push(name);
}

/**
 * The lower-case name for bytes b[start, end) (already validated as tchar). Known names come back as the
 * same interned string every time, with no allocation; others are sliced and lower-cased.
 */
export function headerName(b: Buffer, start: number, end: number): string {
  const candidates = BY_LENGTH[end - start];
  if (candidates !== undefined) {
    outer: for (const name of candidates) {
      for (let i = 0; i < name.length; i++) {
        // For tchar bytes, `| 0x20` folds A-Z onto a-z and leaves '-', digits and a-z as they are.
        if ((b[start + i]! | 0x20) !== name.charCodeAt(i)) continue outer;
      }
      return name;
    }
  }
  return b.latin1Slice(start, end).toLowerCase();
}
