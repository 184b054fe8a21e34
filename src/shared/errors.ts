// Coded errors: every error Trellis raises on purpose carries a stable code and a message naming its cause.

export class TrellisError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: string,
    message: string,
    details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TrellisError';
    this.code = code;
    this.details = details;
  }
}

export function isTrellisError(e: unknown, code?: string): e is TrellisError {
  return e instanceof TrellisError && (code === undefined || e.code === code);
}

/** The message of anything thrown, for logs and replies. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
