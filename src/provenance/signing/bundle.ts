// Reading the three OMS layers: Sigstore bundle → DSSE envelope → in-toto statement with the OMS predicate.
import { X509Certificate } from 'node:crypto';
import { VerificationError } from './errors.ts';

export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const PREDICATE_TYPE = 'https://model_signing/signature/v1.0';
export const LEGACY_PREDICATE_TYPE = 'https://model_signing/Digests/v0.1';

export type VerificationMaterial =
  | { kind: 'publicKey'; hint?: string; rawBytes?: string; keyDetails?: string }
  | { kind: 'x509CertificateChain'; certificates: X509Certificate[] }
  | { kind: 'certificate'; certificate: X509Certificate };

export interface DsseEnvelope {
  payloadType: string;
  payload: Buffer;
  signature: Buffer;
}

export interface ParsedBundle {
  mediaType: string;
  material: VerificationMaterial;
  envelope: DsseEnvelope;
  /** The bundle JSON as read (for the keyless path, which hands it to @sigstore/verify). */
  json: Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function b64(v: unknown, field: string): Buffer {
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v.replace(/\s+/g, ''))) throw new VerificationError('BUNDLE_INVALID', `bundle field ${field} is not base64`);
  return Buffer.from(v, 'base64');
}

function cert(v: unknown, field: string): X509Certificate {
  try {
    return new X509Certificate(b64(v, field));
  } catch (e) {
    if (e instanceof VerificationError) throw e;
    throw new VerificationError('BUNDLE_INVALID', `bundle field ${field} is not a DER certificate`);
  }
}

/** Parses a bundle; unknown fields are tolerated, `tlogEntries` may be missing. */
export function parseBundle(json: unknown): ParsedBundle {
  if (!isObject(json)) throw new VerificationError('BUNDLE_INVALID', 'the signature file is not a JSON object (Sigstore bundle expected)');
  const mediaType = json.mediaType;
  if (mediaType !== BUNDLE_MEDIA_TYPE) throw new VerificationError('MEDIA_TYPE', `bundle mediaType is ${JSON.stringify(mediaType)}, expected ${BUNDLE_MEDIA_TYPE}`);
  const vm = json.verificationMaterial;
  if (!isObject(vm)) throw new VerificationError('BUNDLE_INVALID', 'bundle has no verificationMaterial');
  const present = ['publicKey', 'x509CertificateChain', 'certificate'].filter((k) => vm[k] !== undefined && vm[k] !== null);
  if (present.length !== 1) throw new VerificationError('BUNDLE_INVALID', `verificationMaterial must hold exactly one of publicKey, x509CertificateChain, certificate (found ${present.join(', ') || 'none'})`);
  let material: VerificationMaterial;
  if (present[0] === 'publicKey') {
    const pk = vm.publicKey;
    if (!isObject(pk)) throw new VerificationError('BUNDLE_INVALID', 'verificationMaterial.publicKey is not an object');
    material = {
      kind: 'publicKey',
      hint: typeof pk.hint === 'string' && pk.hint ? pk.hint : undefined,
      rawBytes: typeof pk.rawBytes === 'string' ? pk.rawBytes : undefined,
      keyDetails: typeof pk.keyDetails === 'string' ? pk.keyDetails : undefined,
    };
  } else if (present[0] === 'x509CertificateChain') {
    const chain = vm.x509CertificateChain;
    const certs = isObject(chain) && Array.isArray(chain.certificates) ? chain.certificates : null;
    if (!certs || certs.length === 0) throw new VerificationError('BUNDLE_INVALID', 'verificationMaterial.x509CertificateChain has no certificates');
    material = { kind: 'x509CertificateChain', certificates: certs.map((c, i) => cert(isObject(c) ? c.rawBytes : undefined, `x509CertificateChain.certificates[${i}].rawBytes`)) };
  } else {
    const c = vm.certificate;
    material = { kind: 'certificate', certificate: cert(isObject(c) ? c.rawBytes : undefined, 'verificationMaterial.certificate.rawBytes') };
  }
  const env = json.dsseEnvelope;
  if (!isObject(env)) throw new VerificationError('BUNDLE_INVALID', 'bundle has no dsseEnvelope (OMS signs DSSE envelopes)');
  if (typeof env.payloadType !== 'string') throw new VerificationError('BUNDLE_INVALID', 'dsseEnvelope.payloadType is missing');
  const sigs = env.signatures;
  if (!Array.isArray(sigs) || sigs.length !== 1 || !isObject(sigs[0])) throw new VerificationError('BUNDLE_INVALID', `dsseEnvelope must carry exactly one signature (found ${Array.isArray(sigs) ? sigs.length : 'none'})`);
  const envelope: DsseEnvelope = {
    payloadType: env.payloadType,
    payload: b64(env.payload, 'dsseEnvelope.payload'),
    signature: b64(sigs[0].sig, 'dsseEnvelope.signatures[0].sig'),
  };
  return { mediaType: mediaType as string, material, envelope, json };
}

/** What the statement claims about the model. */
export interface SignedManifest {
  legacy: boolean;
  subjectName: string;
  /** Root digest (absent in legacy Digests/v0.1 statements). */
  rootDigest?: string;
  /** Resource name → hex digest, in statement order. */
  resources: { name: string; algorithm: string; digest: string }[];
  serialization: { method: 'files' | 'shards'; hashType: string; allowSymlinks: boolean; shardSize?: number; ignorePaths: string[] };
}

/** Checks `_type`, `predicateType` and the subject, and reads the OMS predicate. */
export function parseStatement(payload: Buffer): SignedManifest {
  let st: unknown;
  try {
    st = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new VerificationError('STATEMENT_INVALID', 'the signed payload is not JSON (in-toto statement expected)');
  }
  if (!isObject(st)) throw new VerificationError('STATEMENT_INVALID', 'the signed payload is not a JSON object');
  if (st._type !== STATEMENT_TYPE) throw new VerificationError('STATEMENT_TYPE', `wrong in-toto statement type ${JSON.stringify(st._type)}, expected ${STATEMENT_TYPE}`);
  const subjects = Array.isArray(st.subject) ? st.subject : [];
  if (st.predicateType === LEGACY_PREDICATE_TYPE) {
    const resources = subjects.map((s, i) => {
      const d = isObject(s) && isObject(s.digest) ? s.digest.sha256 : undefined;
      if (!isObject(s) || typeof s.name !== 'string' || typeof d !== 'string') throw new VerificationError('STATEMENT_INVALID', `subject[${i}] needs a name and a sha256 digest`);
      return { name: s.name, algorithm: 'sha256', digest: d.toLowerCase() };
    });
    return { legacy: true, subjectName: '', resources, serialization: { method: 'files', hashType: 'sha256', allowSymlinks: false, ignorePaths: [] } };
  }
  if (st.predicateType !== PREDICATE_TYPE) throw new VerificationError('PREDICATE_TYPE', `predicate type mismatch: ${JSON.stringify(st.predicateType)}, expected ${PREDICATE_TYPE}`);
  if (subjects.length !== 1) throw new VerificationError('SUBJECT_COUNT', `expected exactly one subject, found ${subjects.length}`);
  const subject = subjects[0];
  const root = isObject(subject) && isObject(subject.digest) ? subject.digest.sha256 : undefined;
  if (!isObject(subject) || typeof root !== 'string') throw new VerificationError('STATEMENT_INVALID', 'the subject has no sha256 digest');
  const pred = st.predicate;
  if (!isObject(pred) || !Array.isArray(pred.resources) || !isObject(pred.serialization)) throw new VerificationError('STATEMENT_INVALID', 'the OMS predicate needs resources[] and serialization');
  const resources = pred.resources.map((r, i) => {
    if (!isObject(r) || typeof r.name !== 'string' || typeof r.digest !== 'string' || !/^[0-9a-fA-F]*$/.test(r.digest)) throw new VerificationError('STATEMENT_INVALID', `predicate.resources[${i}] needs name and hex digest`);
    return { name: r.name, algorithm: typeof r.algorithm === 'string' ? r.algorithm : '', digest: r.digest.toLowerCase() };
  });
  const s = pred.serialization;
  if (s.method !== 'files' && s.method !== 'shards') throw new VerificationError('UNSUPPORTED_SERIALIZATION', `serialization method ${JSON.stringify(s.method)} is not supported (files or shards)`);
  const shardSize = s.method === 'shards' ? Number(s.shard_size) : undefined;
  if (shardSize !== undefined && (!Number.isSafeInteger(shardSize) || shardSize < 1)) throw new VerificationError('STATEMENT_INVALID', `serialization.shard_size ${JSON.stringify(s.shard_size)} is not a positive whole number`);
  const ignorePaths = Array.isArray(s.ignore_paths) ? s.ignore_paths.filter((p): p is string => typeof p === 'string') : [];
  return {
    legacy: false,
    subjectName: typeof subject.name === 'string' ? subject.name : '',
    rootDigest: root.toLowerCase(),
    resources,
    serialization: { method: s.method, hashType: typeof s.hash_type === 'string' ? s.hash_type : 'sha256', allowSymlinks: s.allow_symlinks === true, shardSize, ignorePaths },
  };
}
