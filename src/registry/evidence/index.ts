// Door of registry/evidence: in-toto statements in DSSE envelopes, content-addressed and bound to a
// model root digest; predicate kinds with schemas; outside reports; the auditor's bundle.
export { canonicalize, canonicalDigest, sha256Hex } from './canonical.ts';
export { EVIDENCE_KINDS, evidenceKinds, isEvidenceKind, kindInfo, kindForPredicateType, predicateErrors, assertPredicate, type EvidenceKind, type KindInfo } from './kinds.ts';
export {
  makeEvidence,
  parseEvidence,
  bindsTo,
  evidenceId,
  envelopeBytes,
  normalizeRootDigest,
  STATEMENT_TYPE_V1,
  IN_TOTO_PAYLOAD_TYPE,
  type Evidence,
  type ParsedEvidence,
  type Statement,
  type Subject,
  type DsseEnvelope,
  type DsseSignature,
  type MakeEvidenceOptions,
  type ParseEvidenceOptions,
} from './envelope.ts';
export { scanPredicate, outsideReportPredicate, testResultsFromEvalRun, gatePredicate, type GatePredicate, type ScanPredicate, type OutsideReportPredicate, type TestResultPredicate } from './predicates.ts';
export { parseOutsideReport, detectReportFormat, REPORT_FORMATS, normalizeSeverity, type OutsideReport, type ReportFormat, type VulnFinding, type VulnSeverity, type ComponentSummary } from './reports/index.ts';
export { exportEvidenceBundle, type BundleIndex, type BundleIndexEntry, type ExportOptions } from './bundle.ts';
