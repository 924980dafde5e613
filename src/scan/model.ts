// The one findings model of the product: every analyzer reports through these types, every renderer reads them.

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export function parseSeverity(text: string): Severity {
  const s = text.toLowerCase();
  if ((SEVERITIES as readonly string[]).includes(s)) return s as Severity;
  throw new ModelgateError('USAGE', `unknown severity "${text}" (expected one of: ${SEVERITIES.join(', ')})`);
}

export function maxSeverity(list: Iterable<Severity>): Severity | null {
  let best: Severity | null = null;
  for (const s of list) if (best === null || severityRank(s) > severityRank(best)) best = s;
  return best;
}

/** A rule of the catalogue: what it detects, why it matters, how to fix or accept it. */
export interface Rule {
  id: string;
  severity: Severity;
  title: string;
  detects: string;
  why: string;
  fix: string;
  references: string[];
}

export type Evidence = Record<string, string | number | boolean | string[] | null>;

export interface Finding {
  ruleId: string;
  severity: Severity;
  /** Path of the entry; inside archives the parts are joined with `!`. */
  path: string;
  /** Byte offset inside the entry the finding points at, or null. */
  offset: number | null;
  message: string;
  evidence: Evidence;
}

/** What an analyzer reports; severity defaults to the rule's, path to the entry's. */
export interface FindingInput {
  ruleId: string;
  message: string;
  offset?: number | null;
  evidence?: Evidence;
  severity?: Severity;
  path?: string;
}

export type FileStatus = 'scanned' | 'skipped' | 'error';

export interface FileReport {
  path: string;
  /** Format identified from content (e.g. "pickle", "pytorch-zip", "zip"), or "unknown". */
  format: string;
  size: number;
  /** Hex SHA-256 of the bytes, or null when hashing was turned off. */
  sha256: string | null;
  status: FileStatus;
  findings: Finding[];
}

export interface ScanSummary {
  files: number;
  scanned: number;
  skipped: number;
  errors: number;
  maxSeverity: Severity | null;
  bySeverity: Record<Severity, number>;
}

/** What one scanned input (a model folder, an archive or a file) is made of. */
export interface ModelInventory {
  /** The path as given on the command line. */
  path: string;
  /** Count of files and members per identified format (skipped plain data excluded). */
  formats: Record<string, number>;
  /** Formats that carry weights or executable structure (pickle, safetensors, gguf, onnx…), sorted. */
  modelFormats: string[];
}

export interface ScanReport {
  schemaVersion: 1;
  tool: { name: 'modelgate'; version: string };
  summary: ScanSummary;
  /** One entry per input path: the format inventory a release policy can gate on. */
  models: ModelInventory[];
  files: FileReport[];
}

/** A typed error with a stable code; the CLI turns it into one line and exit code 2. */
export class ModelgateError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ModelgateError';
  }
}
