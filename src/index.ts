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
// Evidence names that other rooms also use (Evidence, EvidenceKind, ReportFormat) are exported renamed.
export {
  makeEvidence, parseEvidence, bindsTo, evidenceId, envelopeBytes, normalizeRootDigest, STATEMENT_TYPE_V1,
  canonicalize, canonicalDigest, EVIDENCE_KINDS, evidenceKinds, isEvidenceKind, kindInfo, kindForPredicateType, predicateErrors, assertPredicate,
  scanPredicate, outsideReportPredicate, testResultsFromEvalRun, gatePredicate,
  parseOutsideReport, detectReportFormat, REPORT_FORMATS, normalizeSeverity, exportEvidenceBundle,
  type Evidence as EvidenceRecord, type EvidenceKind as EvidenceRecordKind, type ParsedEvidence, type Statement, type Subject,
  type DsseEnvelope, type DsseSignature, type MakeEvidenceOptions, type ParseEvidenceOptions, type KindInfo, type GatePredicate,
  type ScanPredicate, type OutsideReportPredicate, type TestResultPredicate, type OutsideReport, type ReportFormat as OutsideReportFormat,
  type VulnFinding, type VulnSeverity, type ComponentSummary, type BundleIndex, type BundleIndexEntry, type ExportOptions,
} from './registry/evidence/index.ts';
export * from './evals/index.ts';
export * from './policy/index.ts';
// Both rooms name a type EvalRequirement: the eval gate's keeps the name, the policy's is renamed.
export type { EvalRequirement } from './evals/index.ts';
export type { EvalRequirement as PolicyEvalRequirement } from './policy/index.ts';
export * from './registry/store/index.ts';
export { appendAudit, verifyAudit, auditHead, auditHash, GENESIS_HASH, type AuditEntry, type AuditRow, type AuditProblem, type AuditVerification } from './registry/audit/index.ts';
export * as registry from './registry/domain/index.ts';
