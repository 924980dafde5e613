// Errors thrown by parsers of hostile bytes. The scanner turns each into a finding and an `error` status.

/** The bytes are not what they claim, or are malformed beyond what a parser can follow. */
export class FormatError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly offset: number | null = null,
  ) {
    super(message);
    this.name = 'FormatError';
  }
}

/** A bound (size, count, depth, ratio, time) was exceeded; the input was not fully inspected. */
export class LimitError extends Error {
  constructor(
    readonly limit: string,
    message: string,
    readonly offset: number | null = null,
  ) {
    super(message);
    this.name = 'LimitError';
  }
}
