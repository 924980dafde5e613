// Evidence: an in-toto Statement v1 about a model root digest, in a DSSE envelope, named by the
// SHA-256 of the envelope's canonical JSON.
import { createPublicKey, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { IN_TOTO_PAYLOAD_TYPE, ecParams, pae, publicKeyHint } from '../../provenance/signing/index.ts';
import { ModelgateError } from '../../scan/model.ts';
import { canonicalize, sha256Hex } from './canonical.ts';
import { assertPredicate, kindForPredicateType, kindInfo, type EvidenceKind } from './kinds.ts';

export const STATEMENT_TYPE_V1 = 'https://in-toto.io/Statement/v1';
export { IN_TOTO_PAYLOAD_TYPE };

export interface Subject {
  name: string;
  digest: { sha256: string } & Record<string, string>;
}

export interface Statement<P = Record<string, unknown>> {
  _type: typeof STATEMENT_TYPE_V1;
  subject: Subject[];
  predicateType: string;
  predicate: P;
}

export interface DsseSignature {
  keyid: string;
  sig: string;
}

export interface DsseEnvelope {
  payloadType: string;
  payload: string;
  signatures: DsseSignature[];
}

export interface Evidence<P = Record<string, unknown>> {
  /** Hex SHA-256 of canonicalize(envelope): the evidence's name. */
  id: string;
  kind: EvidenceKind;
  envelope: DsseEnvelope;
  statement: Statement<P>;
  /** When this evidence was made or first recorded; kept beside the envelope, not inside it. */
  created: string;
}

export interface MakeEvidenceOptions {
  /** Subject name: the model name; "model" when not given. */
  name?: string;
  /** EC private key (P-256/384/521) to sign with; unsigned (no signatures) when absent. */
  key?: KeyObject;
  /** DSSE keyid; defaults to the key's hint (hex SHA-256 of its SPKI PEM) as OMS computes it. */
  keyid?: string;
  created?: Date | string;
}

export interface ParseEvidenceOptions {
  /** When given, at least one signature must verify with this key (EVIDENCE_SIGNATURE otherwise). */
  publicKey?: KeyObject;
  /** Refuse an envelope without signatures even when no key is given. */
  requireSignature?: boolean;
  /** The id the caller expects (e.g. the file name); EVIDENCE_ID_MISMATCH when it differs. */
  expectedId?: string;
  created?: string;
}

export interface ParsedEvidence<P = Record<string, unknown>> extends Evidence<P> {
  signed: boolean;
  /** keyid of the signature that verified with the given key, or null when no key was given. */
  verifiedKeyid: string | null;
}

/** Accepts `hex` or `sha256:hex`; returns lowercase hex or throws EVIDENCE_BAD_DIGEST. */
export function normalizeRootDigest(rootDigest: string): string {
  const hex = rootDigest.startsWith('sha256:') ? rootDigest.slice(7) : rootDigest;
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new ModelgateError('EVIDENCE_BAD_DIGEST', `root digest "${rootDigest}" is not a hex SHA-256 (64 hex digits, optionally prefixed "sha256:")`);
  return hex.toLowerCase();
}

/** The evidence id of an envelope: hex SHA-256 of its canonical JSON. */
export function evidenceId(envelope: DsseEnvelope): string {
  return sha256Hex(canonicalize(envelope));
}

/** The bytes an evidence file holds: the canonical JSON of the envelope (its SHA-256 is the id). */
export function envelopeBytes(envelope: DsseEnvelope): Buffer {
  return Buffer.from(canonicalize(envelope), 'utf8');
}

function signPae(key: KeyObject, payload: Buffer): Buffer {
  const params = ecParams(key);
  if (!params || key.type !== 'private') throw new ModelgateError('BAD_KEY', 'evidence signing needs an EC P-256, P-384 or P-521 private key');
  return cryptoSign(params.hash, pae(IN_TOTO_PAYLOAD_TYPE, payload), key);
}

export function makeEvidence<P extends object>(kind: EvidenceKind, rootDigest: string, predicate: P, opts: MakeEvidenceOptions = {}): Evidence<P> {
  const info = kindInfo(kind);
  assertPredicate(info.kind, predicate);
  const statement: Statement<P> = {
    _type: STATEMENT_TYPE_V1,
    subject: [{ name: opts.name || 'model', digest: { sha256: normalizeRootDigest(rootDigest) } }],
    predicateType: info.predicateType,
    predicate,
  };
  // The payload is canonical too, so the same statement always yields the same unsigned id.
  const payload = Buffer.from(canonicalize(statement), 'utf8');
  const signatures: DsseSignature[] = opts.key ? [{ keyid: opts.keyid ?? publicKeyHint(opts.key), sig: signPae(opts.key, payload).toString('base64') }] : [];
  const envelope: DsseEnvelope = { payloadType: IN_TOTO_PAYLOAD_TYPE, payload: payload.toString('base64'), signatures };
  const created = opts.created === undefined ? new Date().toISOString() : typeof opts.created === 'string' ? opts.created : opts.created.toISOString();
  return { id: evidenceId(envelope), kind: info.kind, envelope, statement, created };
}

const bad = (msg: string): never => {
  throw new ModelgateError('EVIDENCE_MALFORMED', msg);
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readEnvelope(input: unknown): DsseEnvelope {
  let doc = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    const text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8');
    try {
      doc = JSON.parse(text);
    } catch (e) {
      bad(`envelope is not JSON (${(e as Error).message})`);
    }
  }
  if (!isObject(doc)) return bad('envelope is not a JSON object');
  if (doc.payloadType !== IN_TOTO_PAYLOAD_TYPE) bad(`envelope payloadType is ${JSON.stringify(doc.payloadType)}, expected "${IN_TOTO_PAYLOAD_TYPE}"`);
  if (typeof doc.payload !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(doc.payload)) bad('envelope payload is not a base64 string');
  if (!Array.isArray(doc.signatures)) bad('envelope signatures is not a list');
  const signatures = (doc.signatures as unknown[]).map((s, i) => {
    if (!isObject(s) || typeof s.sig !== 'string') return bad(`envelope signatures[${i}] has no "sig" string`);
    if (s.keyid !== undefined && typeof s.keyid !== 'string') bad(`envelope signatures[${i}].keyid is not a string`);
    return { keyid: (s.keyid as string | undefined) ?? '', sig: s.sig };
  });
  return { payloadType: IN_TOTO_PAYLOAD_TYPE, payload: doc.payload as string, signatures };
}

function readStatement(payload: Buffer): Statement {
  let st: unknown;
  try {
    st = JSON.parse(payload.toString('utf8'));
  } catch (e) {
    return bad(`payload is not JSON (${(e as Error).message})`);
  }
  if (!isObject(st)) return bad('statement is not a JSON object');
  if (st._type !== STATEMENT_TYPE_V1) bad(`statement _type is ${JSON.stringify(st._type)}, expected "${STATEMENT_TYPE_V1}"`);
  if (!Array.isArray(st.subject) || st.subject.length === 0) bad('statement has no subject');
  (st.subject as unknown[]).forEach((s, i) => {
    if (!isObject(s) || typeof s.name !== 'string' || !isObject(s.digest)) return bad(`statement subject[${i}] needs a name and a digest`);
    const d = s.digest.sha256;
    if (typeof d !== 'string' || !/^[0-9a-f]{64}$/.test(d)) bad(`statement subject[${i}].digest.sha256 is ${JSON.stringify(d)}, expected 64 lowercase hex digits`);
  });
  if (typeof st.predicateType !== 'string') bad('statement has no predicateType');
  if (!isObject(st.predicate)) bad('statement predicate is not an object');
  return st as unknown as Statement;
}

function verifySignature(env: DsseEnvelope, payload: Buffer, key: KeyObject): string | null {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const params = ecParams(pub);
  if (!params) throw new ModelgateError('BAD_KEY', 'evidence verification needs an EC P-256, P-384 or P-521 public key');
  const message = pae(env.payloadType, payload);
  for (const s of env.signatures) {
    if (cryptoVerify(params.hash, message, pub, Buffer.from(s.sig, 'base64'))) return s.keyid;
  }
  return null;
}

/**
 * Reads an envelope (JSON text, bytes or parsed object) and checks it: payloadType, statement type,
 * subject digests, a known predicate type whose predicate fits its schema, and — with a public
 * key — a signature over the DSSE PAE. Throws a ModelgateError naming the first problem.
 */
export function parseEvidence(input: unknown, opts: ParseEvidenceOptions = {}): ParsedEvidence {
  const envelope = readEnvelope(input);
  const payload = Buffer.from(envelope.payload, 'base64');
  const statement = readStatement(payload);
  const kind = kindForPredicateType(statement.predicateType);
  assertPredicate(kind, statement.predicate);
  const id = evidenceId(envelope);
  if (opts.expectedId !== undefined && opts.expectedId !== id) throw new ModelgateError('EVIDENCE_ID_MISMATCH', `evidence ${opts.expectedId}: its content hashes to ${id}`);
  const signed = envelope.signatures.length > 0;
  if (opts.requireSignature && !signed) throw new ModelgateError('EVIDENCE_SIGNATURE', `evidence ${id}: not signed`);
  let verifiedKeyid: string | null = null;
  if (opts.publicKey) {
    if (!signed) throw new ModelgateError('EVIDENCE_SIGNATURE', `evidence ${id}: not signed, and a public key was given`);
    verifiedKeyid = verifySignature(envelope, payload, opts.publicKey);
    if (verifiedKeyid === null) throw new ModelgateError('EVIDENCE_SIGNATURE', `evidence ${id}: no signature verifies with the given public key (${envelope.signatures.length} signature(s) checked)`);
  }
  return { id, kind, envelope, statement, created: opts.created ?? new Date().toISOString(), signed, verifiedKeyid };
}

/** True when the evidence's statement names this root digest among its subjects. */
export function bindsTo(evidence: Pick<Evidence, 'statement'>, rootDigest: string): boolean {
  let want: string;
  try {
    want = normalizeRootDigest(rootDigest);
  } catch {
    return false;
  }
  return evidence.statement.subject.some((s) => s.digest?.sha256 === want);
}
