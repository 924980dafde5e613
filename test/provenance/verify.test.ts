import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyModel, legacyPae, pae, pythonBytesRepr, type VerifyModelOptions } from '../../src/provenance/signing/index.ts';
import { ModelgateError } from '../../src/scan/model.ts';
import { MS } from './golden-models.ts';

const K = join(MS, 'keys');
const ROOT = join(MS, 'trust/sigstore-public-good-trusted_root.json');
const IDENTITY = { identity: 'stefanb@us.ibm.com', identityProvider: 'https://sigstore.verify.ibm.com/oauth2' };

/** How each valid vector is verified (README of the vectors). */
function recipe(name: string): { path: string; opts: VerifyModelOptions } {
  const dir = join(MS, 'valid', name);
  const single = /^v(0\.3\.1|1\.0\.0)-elliptic-key$/.test(name);
  const ignorePaths = name.startsWith('v1.0.1-') ? [join(dir, 'ignore-me')] : undefined;
  const trust = name.endsWith('-certificate') ? { certChain: join(K, 'ca-cert.pem') } : name.endsWith('-elliptic-key') ? { key: join(K, 'signing-key-pub.pem') } : { trustedRoot: ROOT, ...IDENTITY };
  return { path: single ? join(dir, 'signme-1') : dir, opts: { signaturePath: join(dir, 'model.sig'), ignorePaths, ...trust } };
}

const valid = readdirSync(join(MS, 'valid')).sort();
test('there are 13 valid vectors', () => assert.equal(valid.length, 13));

for (const name of valid) {
  test(`valid vector ${name} verifies`, async () => {
    const { path, opts } = recipe(name);
    const r = await verifyModel(path, opts);
    assert.equal(r.valid, true, `${r.code}: ${r.reason}`);
    assert.equal(r.pae, name === 'v0.2.0-certificate' ? 'legacy' : 'standard');
    const ignoreMePresent = name.startsWith('v1.0.1-') || name.startsWith('v1.1.0-');
    assert.equal(r.warnings.some((w) => /^ignore-me is present but not verified/.test(w)), ignoreMePresent, r.warnings.join('; '));
  });
}

test('v1.0.1 vectors without the caller ignoring ignore-me: extra file ignore-me', async () => {
  for (const kind of ['certificate', 'elliptic-key', 'sigstore']) {
    const { path, opts } = recipe(`v1.0.1-${kind}`);
    const r = await verifyModel(path, { ...opts, ignorePaths: undefined });
    assert.equal(r.valid, false);
    assert.equal(r.code, 'DIGEST_MISMATCH');
    assert.match(r.reason!, /extra file ignore-me/);
    assert.deepEqual(r.differences?.extra, ['ignore-me']);
  }
});

test('v0.2.0 with standard PAE only fails with an invalid signature', async () => {
  const { path, opts } = recipe('v0.2.0-certificate');
  const r = await verifyModel(path, { ...opts, legacyCompat: false });
  assert.equal(r.code, 'SIGNATURE_INVALID');
});

test('keyless vectors with a wrong identity or issuer fail the identity policy', async () => {
  const { path, opts } = recipe('v1.1.0-sigstore');
  const wrongId = await verifyModel(path, { ...opts, identity: 'mallory@example.com' });
  assert.equal(wrongId.code, 'IDENTITY_MISMATCH');
  assert.match(wrongId.reason!, /mallory@example.com/);
  const wrongIssuer = await verifyModel(path, { ...opts, identityProvider: 'https://accounts.google.com' });
  assert.equal(wrongIssuer.code, 'IDENTITY_MISMATCH');
});

test('a key bundle checked with a certificate chain (and vice versa) names the method mismatch', async () => {
  const key = recipe('v1.1.0-elliptic-key');
  const r = await verifyModel(key.path, { signaturePath: key.opts.signaturePath, certChain: join(K, 'ca-cert.pem') });
  assert.equal(r.code, 'METHOD_MISMATCH');
  const cert = recipe('v1.1.0-certificate');
  const r2 = await verifyModel(cert.path, { signaturePath: cert.opts.signaturePath, key: join(K, 'signing-key-pub.pem') });
  assert.equal(r2.code, 'METHOD_MISMATCH');
  assert.match(r2.reason!, /--cert-chain/);
});

test('renaming a valid model folder keeps it valid', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'mg-verify-'));
  try {
    const moved = join(tmp, 'renamed-model');
    cpSync(join(MS, 'valid/v1.1.0-elliptic-key'), moved, { recursive: true });
    const r = await verifyModel(moved, { signaturePath: join(moved, 'model.sig'), key: join(K, 'signing-key-pub.pem') });
    assert.equal(r.valid, true, r.reason);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

/** Negative vectors: expected code and a fragment the message must contain. */
const NEGATIVE: Record<string, { code?: string; reason?: RegExp; opts?: Partial<VerifyModelOptions> }> = {
  'n01-model-byte-changed': { code: 'DIGEST_MISMATCH', reason: /hash mismatch for signme-2/ },
  'n02-extra-unsigned-file': { code: 'DIGEST_MISMATCH', reason: /extra file extra\.bin/ },
  'n03-missing-file': { code: 'DIGEST_MISMATCH', reason: /missing file signme-2/ },
  'n04-wrong-public-key-hint-mismatch': { code: 'KEY_MISMATCH', reason: /key mismatch/, opts: { key: join(K, 'other/other-p384-pub.pem') } },
  'n05-wrong-public-key-no-hint': { code: 'SIGNATURE_INVALID', reason: /invalid signature/, opts: { key: join(K, 'other/other-p384-pub.pem'), ignorePaths: ['ignore-me'] } },
  'n06-signature-bytes-altered': { code: 'SIGNATURE_INVALID', reason: /invalid signature/ },
  'n07-payload-edited-not-resigned': { code: 'SIGNATURE_INVALID', reason: /invalid signature/ },
  'n08-payloadtype-edited': { code: 'PAYLOAD_TYPE', reason: /payloadType "application\/json"/ },
  'n09-bundle-mediatype-edited': { code: 'MEDIA_TYPE', reason: /mediaType/ },
  'n10-resigned-root-digest-inconsistent': { code: 'MANIFEST_INCONSISTENT', reason: /manifest inconsistent/ },
  'n11-resigned-unknown-predicate-type': { code: 'PREDICATE_TYPE', reason: /predicate type mismatch/ },
  'n12-resigned-two-subjects': { code: 'SUBJECT_COUNT', reason: /exactly one subject, found 2/ },
  'n13-resigned-wrong-statement-type': { code: 'STATEMENT_TYPE', reason: /Statement\/v0\.1/ },
  'n14-certificate-untrusted-root': { code: 'CHAIN_INVALID', reason: /certificate chain validation failed/, opts: { certChain: join(K, 'other/other-root-ca-cert.pem') } },
  'n15-certificate-model-byte-changed': { code: 'DIGEST_MISMATCH', reason: /hash mismatch for signme-1/, opts: { certChain: join(K, 'ca-cert.pem') } },
  'p01-resigned-control-valid': {},
};

test('every negative vector has an expectation', () => assert.deepEqual(readdirSync(join(MS, 'negative')).sort(), Object.keys(NEGATIVE).sort()));

for (const [name, want] of Object.entries(NEGATIVE)) {
  test(`negative vector ${name}`, async () => {
    const dir = join(MS, 'negative', name);
    const trust = want.opts?.certChain || want.opts?.key ? {} : { key: join(K, 'signing-key-pub.pem') };
    const r = await verifyModel(dir, { signaturePath: join(dir, 'model.sig'), ...trust, ...want.opts });
    if (!want.code) return assert.equal(r.valid, true, r.reason);
    assert.equal(r.valid, false);
    assert.equal(r.code, want.code, r.reason);
    assert.match(r.reason!, want.reason!);
  });
}

test('usage errors and unreadable inputs throw ModelgateError (exit 2), not a verdict', async () => {
  const { path, opts } = recipe('v1.1.0-elliptic-key');
  await assert.rejects(verifyModel(path, { signaturePath: opts.signaturePath }), (e: unknown) => e instanceof ModelgateError && /exactly one of/.test(e.message));
  await assert.rejects(verifyModel(path, { ...opts, signaturePath: join(MS, 'README.md') }), (e: unknown) => e instanceof ModelgateError && /not JSON/.test(e.message));
  await assert.rejects(verifyModel(path, { ...opts, key: join(MS, 'no-such.pem') }), (e: unknown) => e instanceof ModelgateError && /cannot read/.test(e.message));
  await assert.rejects(verifyModel(path, { signaturePath: opts.signaturePath, trustedRoot: ROOT }), /--identity/);
});

test('PAE and the v0.2 legacy encoding', () => {
  assert.equal(pae('t', Buffer.from('héllo')).toString('utf8'), 'DSSEv1 1 t 6 héllo');
  assert.equal(pythonBytesRepr(Buffer.from("a'b\n\\\x01")), `b"a'b\\n\\\\\\x01"`);
  assert.equal(pythonBytesRepr(Buffer.from(`'"`)), `b'\\'"'`);
  assert.equal(legacyPae('t', Buffer.from('{\n}')).toString('latin1'), "DSSEV1 1 t 3 b'{\\n}'");
});
