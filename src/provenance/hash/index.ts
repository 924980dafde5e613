// Door of provenance/hash: OMS-compatible model serialization and root digest.
export { hashModel, resolveIgnorePaths, type HashModelOptions, type HashProgress, type ModelDigest, type ModelFileDigest } from './hash-model.ts';
export { DEFAULT_SHARD_SIZE, compareResources, formatManifestLines, parseShardName, rootDigestOf, type Resource, type Serialization, type SerializationMethod } from './manifest.ts';
export { GIT_PATHS, comparePaths, listModelFiles, modelName, normalizeIgnorePath, type ModelFile, type WalkOptions } from './walk.ts';
export { READ_SIZE } from './pool.ts';
