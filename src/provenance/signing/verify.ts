// verifyModel(): an OMS signature over a model, read as named steps — signature, statement, digests.
import { verify as cryptoVerify, type KeyObject, type X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier, PolicyError } from '@sigstore/verify';
import { ModelgateError } from '../../scan/model.ts';
import { GIT_PATHS, hashModel, parseShardName, rootDigestOf, type HashProgress, type Resource } from '../hash/index.ts';
import { parseBundle, parseStatement, type ParsedBundle, type SignedManifest } from './bundle.ts';
import { verifyCertificateChain } from './chain.ts';
import { IN_TOTO_PAYLOAD_TYPE, legacyPae, pae } from './dsse.ts';
import { VerificationError, type VerificationCode } from './errors.ts';
import { describeKey, ecParams, loadCertificates, loadPublicKey, publicKeyHint, readText, type DigestName } from './keys.ts';

export interface VerifyModelOptions {
  /** The Sigstore bundle (`model.sig`). */
  signaturePath: string;
  /** Public key PEM (key-signed bundles). */
  key?: string;
  /** Trust anchors PEM (certificate-signed bundles). */
  certChain?: string;
  /** Sigstore trusted_root.json (keyless bundles), with the expected identity and its issuer. */
  trustedRoot?: string;
  identity?: string;
  identityProvider?: string;
  /** Extra paths to leave out, as for hashing. */
  ignorePaths?: readonly string[];
  ignoreGitPaths?: boolean;
  /** Hash only the files the signature names (upstream `--ignore-unsigned-files`): extra files pass. */
  ignoreUnsignedFiles?: boolean;
  /** Also accept model_signing v0.2's non-standard PAE (default true). */
  legacyCompat?: boolean;
  /** Time at which certificates must be valid (default now). */
  at?: Date;
  jobs?: number;
  onProgress?: (p: HashProgress) => void;
}

export interface ModelDifferences {
  mismatched: string[];
  extra: string[];
  missing: string[];
}

/** The outcome of `modelgate verify --json` (schemaVersion 1). */
export interface VerifyResult {
  schemaVersion: 1;
  valid: boolean;
  /** Stable failure code when not valid. */
  code?: VerificationCode;
  /** One sentence naming what differs. */
  reason?: string;
  method: 'key' | 'certificate' | 'sigstore';
  /** Key hint, certificate subject → anchor, or keyless identity. */
  signer?: string;
  /** Which PAE the signature was over: standard DSSE or the v0.2 legacy encoding. */
  pae?: 'standard' | 'legacy';
  predicateType?: 'v1.0' | 'legacy-v0.1';
  signedRootDigest?: string;
  rootDigest?: string;
  resources?: number;
  /** Model-relative paths left out of the comparison (git paths, the signature, recorded and caller paths). */
  ignoredPaths?: string[];
  differences?: ModelDifferences;
  warnings: string[];
}

/** Verifies a model folder or file against an OMS signature. Throws ModelgateError only for usage and unreadable input. */
export async function verifyModel(modelPath: string, opts: VerifyModelOptions): Promise<VerifyResult> {
  const modes = [opts.key, opts.certChain, opts.trustedRoot].filter((x) => x !== undefined).length;
  if (modes !== 1) throw new ModelgateError('USAGE', 'give exactly one of --key, --cert-chain or --trusted-root');
  if (opts.trustedRoot && (!opts.identity || !opts.identityProvider)) throw new ModelgateError('USAGE', '--trusted-root needs --identity and --identity-provider');
  const method = opts.key ? 'key' : opts.certChain ? 'certificate' : 'sigstore';
  const result: VerifyResult = { schemaVersion: 1, valid: false, method, warnings: [] };
  const text = readText(opts.signaturePath, 'signature');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelgateError('UNREADABLE', `signature ${opts.signaturePath}: not JSON (${(e as Error).message})`);
  }
  // Trust material is read before any verdict so that a bad key file is a usage error (exit 2).
  const key = opts.key ? loadPublicKey(opts.key) : undefined;
  const anchors = opts.certChain ? loadCertificates(opts.certChain, 'certificate chain') : undefined;
  const trustedRoot = opts.trustedRoot ? readTrustedRoot(opts.trustedRoot) : undefined;
  try {
    const bundle = parseBundle(json);
    verifyPayloadType(bundle);
    if (key) verifyWithKey(bundle, key, opts, result);
    else if (anchors) verifyWithCertificates(bundle, anchors, opts, result);
    else verifyKeyless(bundle, trustedRoot!, opts, result);
    const manifest = parseStatement(bundle.envelope.payload);
    result.predicateType = manifest.legacy ? 'legacy-v0.1' : 'v1.0';
    verifyManifestConsistency(manifest, result);
    await verifyDigests(modelPath, manifest, opts, result);
    result.valid = true;
  } catch (e) {
    if (!(e instanceof VerificationError)) throw e;
    result.code = e.code;
    result.reason = e.message;
  }
  return result;
}

function verifyPayloadType(bundle: ParsedBundle): void {
  const t = bundle.envelope.payloadType;
  if (t !== IN_TOTO_PAYLOAD_TYPE) throw new VerificationError('PAYLOAD_TYPE', `wrong DSSE payloadType ${JSON.stringify(t)}, expected ${IN_TOTO_PAYLOAD_TYPE}`);
}

/** ECDSA over the PAE with the curve's hash; model_signing v0.2's legacy PAE as a fallback. */
function verifyDsseSignature(bundle: ParsedBundle, key: KeyObject, legacyHashes: DigestName[], opts: VerifyModelOptions, result: VerifyResult): void {
  const params = ecParams(key);
  if (!params) throw new VerificationError('UNSUPPORTED_KEY', `the signing key is ${describeKey(key)}; OMS signatures use EC P-256, P-384 or P-521`);
  const { payloadType, payload, signature } = bundle.envelope;
  const ok = (data: Buffer, hash: DigestName): boolean => {
    try {
      return cryptoVerify(hash, data, key, signature);
    } catch {
      return false;
    }
  };
  if (ok(pae(payloadType, payload), params.hash)) {
    result.pae = 'standard';
    return;
  }
  if (opts.legacyCompat ?? true) {
    const legacy = legacyPae(payloadType, payload);
    if ([params.hash, ...legacyHashes].some((h) => ok(legacy, h))) {
      result.pae = 'legacy';
      result.warnings.push('signature is over the non-standard DSSE encoding of model_signing v0.2');
      return;
    }
  }
  throw new VerificationError('SIGNATURE_INVALID', `invalid signature: the DSSE signature does not verify with the ${params.label} ${method(result)} key (envelope edited, or a different key signed it)`);
}

const method = (r: VerifyResult): string => (r.method === 'key' ? 'supplied' : 'certificate');

function verifyWithKey(bundle: ParsedBundle, key: KeyObject, opts: VerifyModelOptions, result: VerifyResult): void {
  const m = bundle.material;
  if (m.kind !== 'publicKey') throw new VerificationError('METHOD_MISMATCH', `the signature carries ${m.kind === 'certificate' ? 'a keyless Sigstore certificate (verify with --trusted-root)' : 'a certificate chain (verify with --cert-chain)'}, not a public key`);
  const hint = publicKeyHint(key);
  result.signer = hint;
  if (m.hint && m.hint.toLowerCase() !== hint) throw new VerificationError('KEY_MISMATCH', `key mismatch: the signature names key ${m.hint}, the supplied key is ${hint}`);
  if (!m.hint) result.warnings.push('the bundle names no key hint (pre-v1.1 format); only the signature check binds the key');
  verifyDsseSignature(bundle, key, [], opts, result);
}

function verifyWithCertificates(bundle: ParsedBundle, anchors: X509Certificate[], opts: VerifyModelOptions, result: VerifyResult): void {
  const m = bundle.material;
  if (m.kind === 'publicKey') throw new VerificationError('METHOD_MISMATCH', 'the signature carries a public key, not a certificate chain (verify with --key)');
  const chain = m.kind === 'x509CertificateChain' ? m.certificates : [m.certificate];
  const anchor = verifyCertificateChain(chain, anchors, opts.at);
  result.signer = `${chain[0]!.subject} → ${anchor}`;
  // v0.2 certificate signatures used SHA-256 whatever the curve.
  verifyDsseSignature(bundle, chain[0]!.publicKey, ['sha256'], opts, result);
}

function readTrustedRoot(path: string): TrustedRoot {
  try {
    return TrustedRoot.fromJSON(JSON.parse(readText(path, 'trusted root')));
  } catch (e) {
    if (e instanceof ModelgateError) throw e;
    throw new ModelgateError('UNREADABLE', `trusted root ${path}: not a Sigstore trusted_root.json (${(e as Error).message})`);
  }
}

/** Keyless: Fulcio chain, SCT, Rekor entry and timestamps against a pinned trusted root, offline. */
function verifyKeyless(bundle: ParsedBundle, root: TrustedRoot, opts: VerifyModelOptions, result: VerifyResult): void {
  if (bundle.material.kind !== 'certificate' && bundle.material.kind !== 'x509CertificateChain') throw new VerificationError('METHOD_MISMATCH', 'the signature carries a public key, not a keyless Sigstore certificate (verify with --key)');
  try {
    const entity = toSignedEntity(bundleFromJSON(bundle.json));
    const verifier = new Verifier(toTrustMaterial(root), { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 });
    verifier.verify(entity, { subjectAlternativeName: opts.identity!, extensions: { issuer: opts.identityProvider! } });
  } catch (e) {
    const err = e as Error & { code?: string };
    if (e instanceof PolicyError) throw new VerificationError('IDENTITY_MISMATCH', `identity policy failed: ${err.message} (expected ${opts.identity} from ${opts.identityProvider})`);
    throw new VerificationError('KEYLESS_INVALID', `Sigstore verification failed${err.code ? ` (${err.code})` : ''}: ${err.message}`);
  }
  result.signer = `${opts.identity} (${opts.identityProvider})`;
  result.pae = 'standard';
}

/** The subject's root digest must be the hash of the listed resources ("manifest is inconsistent" otherwise). */
function verifyManifestConsistency(m: SignedManifest, result: VerifyResult): void {
  if (m.legacy) return;
  const computed = rootDigestOf(m.resources.map((r) => r.digest));
  result.signedRootDigest = m.rootDigest;
  if (computed !== m.rootDigest) throw new VerificationError('MANIFEST_INCONSISTENT', `manifest inconsistent: the subject digest ${m.rootDigest} is not the root digest of the signed resources (${computed})`);
}

const filePart = (name: string, shards: boolean): string => (shards ? parseShardName(name)?.path ?? name : name);

/** Re-hashes the model as recorded in the signature and compares every resource. */
async function verifyDigests(modelPath: string, m: SignedManifest, opts: VerifyModelOptions, result: VerifyResult): Promise<void> {
  if (m.serialization.hashType !== 'sha256') throw new VerificationError('UNSUPPORTED_SERIALIZATION', `hash_type ${m.serialization.hashType} is not supported (sha256)`);
  const shards = m.serialization.method === 'shards';
  const signedFiles = new Set(m.resources.map((r) => filePart(r.name, shards)));
  const local = await hashModel(modelPath, {
    include: opts.ignoreUnsignedFiles ? (name) => signedFiles.has(name) : undefined,
    serialization: m.serialization.method,
    shardSize: m.serialization.shardSize,
    allowSymlinks: m.serialization.allowSymlinks,
    ignorePaths: opts.ignorePaths,
    modelIgnorePaths: m.serialization.ignorePaths,
    ignoreGitPaths: opts.ignoreGitPaths,
    signaturePath: opts.signaturePath,
    jobs: opts.jobs,
    onProgress: opts.onProgress,
  });
  result.rootDigest = local.rootDigest;
  result.resources = local.resources.length;
  result.ignoredPaths = local.serialization.ignorePaths;
  noteIgnoredContent(modelPath, local.serialization.ignorePaths, opts.signaturePath, result);
  const signed = new Map(m.resources.map((r) => [r.name, r.digest]));
  const found = new Map(local.resources.map((r: Resource) => [r.name, r.digest]));
  const foundFiles = new Set(local.resources.map((r) => filePart(r.name, shards)));
  if (!shards) local.files.filter((f) => !found.has(f.name)).forEach((f) => foundFiles.add(f.name));
  const diff: ModelDifferences = { mismatched: [], extra: [], missing: [] };
  const notes: string[] = [];
  for (const [name, digest] of signed) {
    const got = found.get(name);
    if (got === undefined) {
      if (foundFiles.has(filePart(name, shards))) {
        diff.mismatched.push(name);
        notes.push(`shard ${name} is missing (file size changed)`);
      } else if (!diff.missing.includes(filePart(name, shards))) diff.missing.push(filePart(name, shards));
    } else if (got !== digest) {
      diff.mismatched.push(name);
      notes.push(`hash mismatch for ${name} (signed ${digest.slice(0, 12)}…, found ${got.slice(0, 12)}…)`);
    }
  }
  for (const name of found.keys()) {
    if (signed.has(name)) continue;
    const file = filePart(name, shards);
    if (!signedFiles.has(file)) {
      if (!diff.extra.includes(file)) diff.extra.push(file);
    } else {
      diff.mismatched.push(name);
      notes.push(`unsigned shard ${name} (file size changed)`);
    }
  }
  for (const f of diff.missing) notes.push(`missing file ${f}`);
  for (const f of diff.extra) notes.push(`extra file ${f} (not in the signature)`);
  if (notes.length) {
    result.differences = diff;
    throw new VerificationError('DIGEST_MISMATCH', `model does not match the signature: ${notes.join('; ')}`);
  }
  if (!m.legacy && local.rootDigest !== m.rootDigest) {
    // Same resources but a different order cannot happen with a consistent manifest; keep the check anyway.
    throw new VerificationError('DIGEST_MISMATCH', `root digest ${local.rootDigest} differs from the signed ${m.rootDigest}`);
  }
}

/** Ignored paths that exist hold bytes nobody verified: say so (git metadata and the signature excepted). */
function noteIgnoredContent(modelPath: string, ignored: string[], signaturePath: string, result: VerifyResult): void {
  const root = resolve(modelPath);
  if (!statSync(root).isDirectory()) return;
  for (const p of ignored) {
    const full = resolve(root, p);
    if ((GIT_PATHS as readonly string[]).includes(p) || full === resolve(signaturePath) || !existsSync(full)) continue;
    result.warnings.push(`${p} is present but not verified (left out by the signature's ignore_paths or --ignore-paths)`);
  }
}

/** Reads a bundle file and returns its statement (for tools that only inspect). */
export function readSignedManifest(signaturePath: string): SignedManifest {
  return parseStatement(parseBundle(JSON.parse(readFileSync(signaturePath, 'utf8'))).envelope.payload);
}
