// Door of provenance/signing: OpenSSF Model Signing (OMS) signatures — sign and verify.
export { signModel, buildStatement, type SignModelOptions, type SignResult } from './sign.ts';
export { verifyModel, readSignedManifest, type VerifyModelOptions, type VerifyResult, type ModelDifferences } from './verify.ts';
export { VerificationError, type VerificationCode } from './errors.ts';
export { parseBundle, parseStatement, BUNDLE_MEDIA_TYPE, STATEMENT_TYPE, PREDICATE_TYPE, LEGACY_PREDICATE_TYPE, type ParsedBundle, type SignedManifest, type VerificationMaterial } from './bundle.ts';
export { pae, legacyPae, pythonBytesRepr, IN_TOTO_PAYLOAD_TYPE } from './dsse.ts';
export { publicKeyHint, ecParams } from './keys.ts';
export { verifyCertificateChain } from './chain.ts';
