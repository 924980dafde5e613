// The door of the license room: detection, the knowledge base and the decision for an intended use.
export { reviewLicense, parseIntendedUse } from './review.ts';
export { detectLicenses, readFrontMatter, cardLicense, cardToExpression, type Detection, type ModelCardLicense, type SpdxNode } from './detect.ts';
export { matchLicenseText, matchNotice, fingerprint, NEAR_THRESHOLD, CONTAINS_THRESHOLD, type TextFingerprint } from './match.ts';
export { decideEntry, worst, best } from './decide.ts';
export { MODEL_LICENSES, AUP_TEXTS, entryById, entryForSpdx, entryForLicenseName, spdxForHubId, classifySpdx, spdxId } from './kb/index.ts';
export { renderLicenseReview, exitCodeForLicense } from './render.ts';
export { licenseTokens, normalizeLicenseText } from './normalize.ts';
export * from './types.ts';
