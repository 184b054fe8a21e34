// The seam for request path normalization: the shape the security module's Istio normalizer also has.

import type { HcmConfig } from '../../../config/model.js';

/** The connection manager fields that drive normalization. */
export type PathNormalization = Pick<HcmConfig, 'normalizePath' | 'mergeSlashes' | 'escapedSlashes'>;

/**
 * `continue` with the path to route, authorize and forward; `redirect` to the unescaped path (escaped slashes
 * with `unescape_and_redirect`); `reject` with a 400.
 */
export type PathNormalizationResult =
  | { action: 'continue'; path: string }
  | { action: 'redirect'; path: string }
  | { action: 'reject'; reason: string };

/** Normalizes a raw `:path` (query included, left untouched). */
export type PathNormalizer = (rawPath: string, opts: PathNormalization) => PathNormalizationResult;
