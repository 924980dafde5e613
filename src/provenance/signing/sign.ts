// signModel(): an OMS signature (Sigstore bundle v0.3 → DSSE → in-toto statement) with an EC key.
import { sign as cryptoSign, createPublicKey, type X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { ModelgateError } from '../../scan/model.ts';
import { hashModel, type HashProgress, type ModelDigest, type SerializationMethod } from '../hash/index.ts';
import { BUNDLE_MEDIA_TYPE, PREDICATE_TYPE, STATEMENT_TYPE } from './bundle.ts';
import { IN_TOTO_PAYLOAD_TYPE, pae } from './dsse.ts';
import { ecParams, loadCertificates, loadPrivateKey, publicKeyHint } from './keys.ts';

export interface SignModelOptions {
  /** EC private key PEM (P-256, P-384 or P-521; SEC1 or PKCS#8). */
  key: string;
  /** PEM files: the signing certificate first, then intermediates (self-signed roots are left out). */
  certChain?: readonly string[];
  /** Where the bundle goes (default `model.sig`); ignored when hashing if it lies inside the model. */
  output?: string;
  ignorePaths?: readonly string[];
  ignoreGitPaths?: boolean;
  allowSymlinks?: boolean;
  serialization?: SerializationMethod;
  shardSize?: number;
  jobs?: number;
  onProgress?: (p: HashProgress) => void;
}

export interface SignResult {
  schemaVersion: 1;
  signature: string;
  method: 'key' | 'certificate';
  keyHint: string;
  curve: string;
  digest: ModelDigest;
}

/** The in-toto statement OMS signs, field order and 2-space indent as `model_signing` writes it. */
export function buildStatement(d: ModelDigest): Record<string, unknown> {
  const serialization: Record<string, unknown> = { method: d.serialization.method, hash_type: d.serialization.hashType, allow_symlinks: d.serialization.allowSymlinks };
  if (d.serialization.shardSize !== undefined) serialization.shard_size = d.serialization.shardSize;
  serialization.ignore_paths = d.serialization.ignorePaths;
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: d.name, digest: { sha256: d.rootDigest } }],
    predicateType: PREDICATE_TYPE,
    predicate: { serialization, resources: d.resources.map((r) => ({ algorithm: r.algorithm, digest: r.digest, name: r.name })) },
  };
}

/** Signs a model folder or file and writes the bundle; returns what was signed. */
export async function signModel(modelPath: string, opts: SignModelOptions): Promise<SignResult> {
  const key = loadPrivateKey(opts.key);
  const params = ecParams(key)!;
  const certs: X509Certificate[] = (opts.certChain ?? []).flatMap((p) => loadCertificates(p, 'certificate'));
  const chain = certs.filter((c, i) => i === 0 || c.subject !== c.issuer || !c.verify(c.publicKey));
  if (chain.length) {
    const leafKey = chain[0]!.publicKey.export({ type: 'spki', format: 'der' });
    const ourKey = createPublicKey(key).export({ type: 'spki', format: 'der' });
    if (!leafKey.equals(ourKey)) throw new ModelgateError('BAD_CERT', `the first certificate ("${chain[0]!.subject}") is not for the signing key`);
  }
  const output = opts.output ?? 'model.sig';
  const digest = await hashModel(modelPath, {
    serialization: opts.serialization,
    shardSize: opts.shardSize,
    ignorePaths: opts.ignorePaths,
    ignoreGitPaths: opts.ignoreGitPaths,
    allowSymlinks: opts.allowSymlinks,
    signaturePath: output,
    jobs: opts.jobs,
    onProgress: opts.onProgress,
  });
  const payload = Buffer.from(JSON.stringify(buildStatement(digest), null, 2), 'utf8');
  const sig = cryptoSign(params.hash, pae(IN_TOTO_PAYLOAD_TYPE, payload), key);
  const hint = publicKeyHint(key);
  const verificationMaterial = chain.length
    ? { x509CertificateChain: { certificates: chain.map((c) => ({ rawBytes: c.raw.toString('base64') })) }, tlogEntries: [] }
    : { publicKey: { hint }, tlogEntries: [] };
  const bundle = {
    mediaType: BUNDLE_MEDIA_TYPE,
    verificationMaterial,
    dsseEnvelope: { payload: payload.toString('base64'), payloadType: IN_TOTO_PAYLOAD_TYPE, signatures: [{ sig: sig.toString('base64'), keyid: '' }] },
  };
  try {
    writeFileSync(output, JSON.stringify(bundle));
  } catch (e) {
    throw new ModelgateError('UNWRITABLE', `${output}: cannot write the signature (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return { schemaVersion: 1, signature: output, method: chain.length ? 'certificate' : 'key', keyHint: hint, curve: params.label, digest };
}
