// The SBOM room's door: CycloneDX 1.6 ML-BOM of a model folder or file.
export { buildSbom, licensesFromCard, licensesFromReview, MODEL_REF, type SbomOptions, type SbomResult, type LicenseEntry } from './build.ts';
export { validateSbom } from './validate.ts';
export type * from './types.ts';
