/**
 * Errors with stable codes. Native errors arrive with the same codes (native/engine/errors.h); code that
 * handles errors should branch on `code`, never on message text.
 */
export type ErrorCode =
  | 'ERR_ARGUMENT'
  | 'ERR_SHAPE'
  | 'ERR_TORCH'
  | 'ERR_OOM'
  | 'ERR_BUSY'
  | 'ERR_DISPOSED'
  | 'ERR_CHECKPOINT'
  | 'ERR_DEVICE'
  | 'ERR_IO'
  | 'ERR_INTERNAL'
  | 'ERR_NATIVE_LOAD'
  | 'ERR_CONFIG'
  | 'ERR_DATA';

/** An error with a stable {@link ErrorCode}; branch on `code`, never on the message. */
export class HealbertError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HealbertError';
    this.code = code;
  }
}

/** True for any error carrying a healbert code, whether raised in TypeScript or in the addon. */
export function isHealbertError(error: unknown): error is Error & { code: ErrorCode } {
  if (!(error instanceof Error)) return false;
  const code: unknown = (error as Error & { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('ERR_');
}
