// Door of the quarantine store: content-addressed blobs, manifests, refs.
export { ContentStore, BlobWriter, DEFAULT_STORE, verifyingStream, type BlobDigests, type BlobExpectation } from './store.ts';
export { buildManifest, MANIFEST_SCHEMA_VERSION, type QuarantineManifest, type ManifestFile, type SourceRecord } from './manifest.ts';
export { gitBlobSha1, lfsPointer, sha256Hex, digestFile, SHA1_HEX, SHA256_HEX } from './digest.ts';
