// The one error the decoders throw. Bytes handed to a decoder may come from a hostile or buggy
// peer, or from a damaged disk, so malformed input is an expected operating error, not a bug:
// callers catch CodecError (check `code === 'KVC_CODEC'`), drop the message or report the record,
// and carry on. A decoder never lets a TypeError, RangeError or msgpackr error escape instead.

export const CODEC_ERROR_CODE = 'KVC_CODEC';

export class CodecError extends Error {
  readonly code = CODEC_ERROR_CODE;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CodecError';
  }
}

export function isCodecError(error: unknown): error is CodecError {
  return error instanceof CodecError;
}
