// The license review model: knowledge-base entries, detected licenses with evidence, and the decision.

export const INTENDED_USES = ['commercial', 'internal', 'research'] as const;
/**
 * commercial: in a product or service offered to customers or the public (may mean hosting for or
 * distributing to third parties). internal: inside the organisation for its own business, nothing
 * offered to third parties (still a commercial purpose). research: non-commercial research or evaluation.
 */
export type IntendedUse = (typeof INTENDED_USES)[number];

export type Decision = 'approved' | 'review' | 'forbidden';

export type LicenseCategory =
  | 'permissive'
  | 'public-domain'
  | 'weak-copyleft'
  | 'strong-copyleft'
  | 'non-commercial'
  | 'no-derivatives'
  | 'model-community' // Llama, Gemma, Qwen: custom commercial terms with conditions
  | 'responsible-ai' // OpenRAIL family, DeepSeek: use-based restrictions that pass through
  | 'research-only'
  | 'unknown';

/** Where in the license text a rule comes from (section number and a short quote). */
export interface Clause {
  section: string;
  quote: string;
}

export type ObligationKind =
  | 'attribution' // notices, "Built with …"
  | 'naming' // derived model names must start with …
  | 'acceptable-use' // AUP / prohibited-use policy incorporated by reference
  | 'pass-through' // restrictions must be imposed on downstream users
  | 'field-of-use' // uses the license forbids (medical advice, military …)
  | 'redistribution' // copy of the license, modified-file notices …
  | 'outputs' // restrictions on using outputs (e.g. to improve other LLMs)
  | 'geography' // rights withheld in some regions
  | 'user-threshold' // a separate license above N monthly active users
  | 'remote-restriction' // licensor may restrict use remotely
  | 'copyleft' // share source / same license
  | 'governing-law';

export interface Obligation {
  kind: ObligationKind;
  text: string;
  clause?: Clause;
  /** KB entry the obligation comes from. */
  license: string;
}

export interface UserThreshold {
  /** Monthly active users above which a separate license from the licensor is required. */
  monthlyActiveUsers: number;
  /** Uses the threshold applies to. */
  appliesTo: readonly IntendedUse[];
  clause: Clause;
}

export interface AcceptableUsePolicy {
  url: string;
  /** KB text file of the AUP snapshot, if we hold one. */
  textFile?: string;
  /** The licensor may change it: record the fetched version. */
  mutable: boolean;
  clause: Clause;
}

export interface KbEntry {
  /** Stable KB id, e.g. "llama3.1", "Apache-2.0". */
  id: string;
  /** SPDX id or LicenseRef-… used in expressions and SBOMs. */
  spdx: string;
  name: string;
  category: LicenseCategory;
  /** Hugging Face `license` ids and `license_name` values that name this entry. */
  hubIds: readonly string[];
  licenseNames?: readonly string[];
  /** KB text file (test/fixtures/licenses) holding the canonical text, if any. */
  textFile?: string;
  commercialUse: boolean | 'unknown';
  researchOnly: boolean;
  threshold?: UserThreshold;
  acceptableUse?: AcceptableUsePolicy;
  obligations: ReadonlyArray<Omit<Obligation, 'license'>>;
  /** Only notes, no verified text: never approved on its own (fail closed). */
  verified: boolean;
  /** Extra reason always shown (e.g. family id that names no single text). */
  note?: string;
  source: string;
}

export type EvidenceKind = 'card-license' | 'card-license-name' | 'card-license-link' | 'card-gated' | 'card-base-model' | 'license-file' | 'notice-file' | 'use-policy-file';

export interface TextMatch {
  /** KB entry (or AUP of an entry) the text matched. */
  entry: string;
  /** Which KB text file it matched. */
  kbFile: string;
  /**
   * exact: same normalised text; near: small edits; contains: the KB text plus more;
   * signature: a common open-source license recognised by its opening words (no full text in the KB).
   */
  kind: 'exact' | 'near' | 'contains' | 'signature';
  /** Jaccard similarity of word 3-shingles, 0..1. */
  score: number;
  containment: number;
  /** Next best KB text and its score (how distinct the match is). */
  runnerUp?: { kbFile: string; score: number };
  /** Other KB license texts the file also contains in full (a file holding several licenses). */
  alsoContains?: string[];
  /** Words added/removed relative to the KB text (empty for exact). */
  diff?: { added: string[]; removed: string[] };
}

export interface LicenseEvidence {
  kind: EvidenceKind;
  /** File the evidence comes from, relative to the reviewed folder. */
  file: string;
  /** The value found (card field value, or the file's first line). */
  value: string;
  sha256?: string;
  normalizedSha256?: string;
  match?: TextMatch;
}

export interface DetectedLicense {
  /** KB id, or null when the license is unknown to the KB. */
  entry: string | null;
  spdx: string;
  name: string;
  category: LicenseCategory;
  /** Evidence items that name this license. */
  evidence: LicenseEvidence[];
}

export interface Reason {
  decision: Decision;
  text: string;
  license?: string;
  clause?: Clause;
}

export interface LicenseReview {
  schemaVersion: 1;
  tool: { name: 'modelgate'; version: string };
  path: string;
  use: IntendedUse;
  users: number | null;
  decision: Decision;
  /** The SPDX expression the decision was made for (card expression, or AND of the detected ones). */
  expression: string | null;
  licenses: DetectedLicense[];
  reasons: Reason[];
  obligations: Obligation[];
  /** All evidence, including files that named no license. */
  evidence: LicenseEvidence[];
}

export interface ReviewOptions {
  use: IntendedUse;
  /** Monthly active users of the organisation's products and services (what user thresholds count). */
  users?: number;
}
