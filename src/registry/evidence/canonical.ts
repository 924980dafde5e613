// Canonical JSON (RFC 8785, JCS): the byte form an evidence id is computed over, so the same
// envelope always has the same id whatever order its keys were written in.
import { createHash } from 'node:crypto';
import { ModelgateError } from '../../scan/model.ts';

/**
 * RFC 8785: object keys sorted by UTF-16 code units (JavaScript's default string order), no
 * whitespace, strings and numbers serialised as ECMAScript's JSON.stringify does (which is what
 * JCS specifies). Non-finite numbers, bigints and functions are refused rather than guessed.
 */
export function canonicalize(value: unknown): string {
  return write(value, '$');
}

function write(v: unknown, at: string): string {
  if (v === null) return 'null';
  if (typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') v = (v as { toJSON(): unknown }).toJSON();
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'string':
      return JSON.stringify(v);
    case 'number':
      if (!Number.isFinite(v)) throw new ModelgateError('EVIDENCE_NOT_CANONICAL', `${at}: ${v} has no JSON form`);
      return JSON.stringify(v);
    case 'object': {
      if (v === null) return 'null';
      if (Array.isArray(v)) return `[${v.map((x, i) => (x === undefined || typeof x === 'function' ? 'null' : write(x, `${at}[${i}]`))).join(',')}]`;
      const obj = v as Record<string, unknown>;
      const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${write(obj[k], `${at}.${k}`)}`).join(',')}}`;
    }
    default:
      throw new ModelgateError('EVIDENCE_NOT_CANONICAL', `${at}: a ${typeof v} has no JSON form`);
  }
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Hex SHA-256 of the canonical form. */
export function canonicalDigest(value: unknown): string {
  return sha256Hex(canonicalize(value));
}
