// Secret detection for any string: text files, pickle constants, config values. Results are masked
// here, at the door: no caller (finding, evidence, JSON, SARIF) ever holds a full secret.
import { detectRaw, type RawSecret, type SecretSeverity } from './detectors.ts';
import { lineOf, lineStarts } from './positions.ts';

export type { SecretSeverity } from './detectors.ts';
export { byteOffsets, lineOf, lineStarts } from './positions.ts';

export interface SecretMatch {
  /** Detector id: huggingface-token, openai-key, aws-access-key-id, private-key, generic-secret… */
  kind: string;
  /** Human name of the credential type. */
  label: string;
  severity: SecretSeverity;
  /** Character offset of the secret in the text, and its 1-based line. */
  index: number;
  line: number;
  /** Length of the secret in characters (the value is never returned). */
  length: number;
  /** First 4 and last 2 characters (fewer for short values), e.g. "hf_A…9z". */
  masked: string;
  /** The key it is assigned to, for generic assignments. */
  key?: string;
  note?: string;
}

export interface FindSecretsOptions {
  /** Accept unquoted values (`password: abc…`, YAML/INI/.env); off for code, where they are expressions. */
  bareValues?: boolean;
}

export function maskSecret(value: string): string {
  const flat = value.replace(/\s+|\\[nr]/g, '');
  if (flat.length >= 16) return `${flat.slice(0, 4)}…${flat.slice(-2)}`;
  if (flat.length >= 8) return `${flat.slice(0, 2)}…${flat.slice(-1)}`;
  return '…';
}

export function findSecrets(text: string, opts: FindSecretsOptions = {}): SecretMatch[] {
  const raw = detectRaw(text, opts);
  if (raw.length === 0) return [];
  const lines = lineStarts(text);
  return raw.map((r) => toMatch(text, r, lines));
}

/** The text with every detected secret replaced by its mask: safe to show as evidence. */
export function redactSecrets(text: string, opts: FindSecretsOptions = {}): string {
  const raw = detectRaw(text, opts);
  let out = '';
  let at = 0;
  for (const r of raw) {
    out += text.slice(at, r.start) + maskSecret(text.slice(r.start, r.end));
    at = r.end;
  }
  return out + text.slice(at);
}

function toMatch(text: string, r: RawSecret, lines: number[]): SecretMatch {
  const value = text.slice(r.start, r.end);
  const m: SecretMatch = { kind: r.kind, label: r.label, severity: r.severity, index: r.start, line: lineOf(lines, r.start), length: value.length, masked: maskSecret(value) };
  if (r.key) m.key = r.key;
  if (r.note) m.note = r.note;
  return m;
}
