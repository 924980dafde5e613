// The library: every CLI command is a thin shell over these functions.
export * from './scan/index.ts';
export { renderReport, toSarif, renderText, type ReportFormat } from './scan/render.ts';
export { VERSION } from './version.ts';
export * from './provenance/hash/index.ts';
export * from './provenance/signing/index.ts';
export * from './provenance/card/index.ts';
export * from './provenance/sbom/index.ts';
export * from './license/index.ts';
export * from './provenance/sources/index.ts';
export * from './provenance/quarantine/index.ts';
export * from './provenance/mirror/index.ts';
export * from './registry/evidence/index.ts';
