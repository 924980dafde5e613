// Policy as code: the shapes of a policy file, of the facts a gate reads and of the decision it returns.
import type { Severity } from '../scan/model.ts';
import type { Decision } from '../license/types.ts';

export const TIERS = ['low', 'medium', 'high', 'critical'] as const;
export type Tier = (typeof TIERS)[number];

/** Requirements of one tier × environment cell, as written in a policy layer (every key optional). */
export interface RequirementsLayer {
  maxEvidenceAge?: string | null;
  scan?: { maxSeverity?: Severity; waivableRules?: string[]; allowedFormats?: string[]; remoteCode?: boolean } | null;
  license?: { allowed?: Decision[] } | null;
  signature?: { required?: boolean; identities?: string[]; keys?: string[] } | null;
  evals?: EvalRequirement[] | null;
  vulnerabilities?: { maxCritical?: number; maxHigh?: number } | null;
  approvals?: { quorum?: number; roles?: string[] } | null;
  waivers?: { allowed?: boolean; maxDuration?: string; grantors?: string[]; requirements?: string[] } | null;
}

export interface EvalRequirement {
  suite: string;
  minPassRate: number;
  /** When set, only runs of this exact suite digest count. */
  digest?: string;
}

/** The resolved requirements of one cell (defaults, tier default and environment merged). */
export interface CellRequirements {
  /** Milliseconds; null means evidence never goes stale. */
  maxEvidenceAgeMs: number | null;
  maxEvidenceAge: string | null;
  scan: { maxSeverity: Severity; waivableRules: string[]; allowedFormats: string[] | null; remoteCode: boolean } | null;
  license: { allowed: Decision[] } | null;
  signature: { required: boolean; identities: string[]; keys: string[] } | null;
  evals: EvalRequirement[];
  vulnerabilities: { maxCritical: number | null; maxHigh: number | null } | null;
  approvals: { quorum: number; roles: string[] } | null;
  waivers: { allowed: boolean; maxDuration: string; maxDurationMs: number; grantors: string[]; requirements: string[] } | null;
}

/** A validated policy, with every tier × environment cell resolved once at load time. */
export interface Policy {
  version: 1;
  /** Where it came from: a file path or "(built-in default)". */
  source: string;
  environments: string[];
  /** Roles known to the policy (approvals and waiver grantors must use them), empty when not declared. */
  roles: string[];
  cells: Record<Tier, Record<string, CellRequirements>>;
}

export type Timestamp = string | number | Date;

/** What the registry knows about one model version, assembled from stored evidence. */
export interface GateFacts {
  rootDigest: string;
  scan?: {
    maxSeverity: Severity | null;
    /** Worst severity and count of each rule id found. */
    findingsByRule: Record<string, { severity: Severity; count: number }>;
    modelFormats: string[];
    remoteCode: boolean;
    /** Files that could not be fully scanned (fail closed). */
    errors?: number;
    at: Timestamp;
  } | null;
  license?: { decision: Decision; expression?: string; at: Timestamp } | null;
  signature?: { verified: boolean; identity?: string | null; keyId?: string | null; at: Timestamp } | null;
  evals?: Array<{ suite: string; digest?: string | null; passRate: number; at: Timestamp }>;
  vulnerabilities?: { critical: number; high: number; at: Timestamp } | null;
  approvals?: Array<{ by: string; role: string; at: Timestamp; expiresAt?: Timestamp | null; rootDigest: string }>;
  waivers?: Array<{ requirementId: string; grantedBy: string; role?: string | null; reason: string; at?: Timestamp | null; expiresAt: Timestamp; rootDigest: string }>;
}

export type RequirementStatus = 'pass' | 'fail' | 'missing' | 'waived';

export interface RequirementResult {
  /** Stable id: scan.severity, scan.formats, scan.remote-code, license, signature, eval:<suite>, vulnerabilities, approvals. */
  id: string;
  status: RequirementStatus;
  /** One sentence a person can act on. */
  reason: string;
  evidence?: Record<string, unknown>;
}

export interface GateDecision {
  allowed: boolean;
  tier: Tier;
  env: string;
  rootDigest: string;
  /** ISO time the decision was evaluated at. */
  at: string;
  requirements: RequirementResult[];
}

/** One problem in a policy file: where it is, what was expected, what was found. */
export interface PolicyIssue {
  file: string;
  line: number | null;
  column: number | null;
  /** Dotted path inside the document, e.g. tiers.high.production.scan.maxSeverity. */
  path: string;
  message: string;
}
