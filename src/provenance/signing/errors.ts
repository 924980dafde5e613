// Why a signature or a model failed verification: a stable code and a message that names what differs.
export type VerificationCode =
  | 'BUNDLE_INVALID'
  | 'MEDIA_TYPE'
  | 'PAYLOAD_TYPE'
  | 'METHOD_MISMATCH'
  | 'KEY_MISMATCH'
  | 'UNSUPPORTED_KEY'
  | 'SIGNATURE_INVALID'
  | 'CHAIN_INVALID'
  | 'KEYLESS_INVALID'
  | 'IDENTITY_MISMATCH'
  | 'STATEMENT_TYPE'
  | 'PREDICATE_TYPE'
  | 'SUBJECT_COUNT'
  | 'STATEMENT_INVALID'
  | 'MANIFEST_INCONSISTENT'
  | 'UNSUPPORTED_SERIALIZATION'
  | 'DIGEST_MISMATCH';

/** A verification step failed: the signature or the model is not what it claims (exit 1). */
export class VerificationError extends Error {
  constructor(
    readonly code: VerificationCode,
    message: string,
  ) {
    super(message);
    this.name = 'VerificationError';
  }
}
