import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { signModel, verifyModel } from '../../src/provenance/signing/index.ts';
import { ModelgateError } from '../../src/scan/model.ts';
import { CLI, runCli } from '../helpers/scan.ts';
import { MS } from './golden-models.ts';

const K = join(MS, 'keys');
const tmp = mkdtempSync(join(tmpdir(), 'mg-sign-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;

function model(): string {
  const dir = join(tmp, `model-${n++}`);
  mkdirSync(join(dir, 'sub'), { recursive: true });
  writeFileSync(join(dir, 'config.json'), '{"a":1}');
  writeFileSync(join(dir, 'sub', 'weights.bin'), Buffer.alloc(100, 7));
  writeFileSync(join(dir, 'empty'), '');
  return dir;
}

function keyPair(curve: string): { priv: string; pub: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  const priv = join(tmp, `${curve}-${n}.pem`);
  const pub = join(tmp, `${curve}-${n++}-pub.pem`);
  writeFileSync(priv, privateKey.export({ type: 'sec1', format: 'pem' }));
  writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }));
  return { priv, pub };
}

for (const [curve, label, hash] of [['prime256v1', 'P-256', 'sha256'], ['secp384r1', 'P-384', 'sha384'], ['secp521r1', 'P-521', 'sha512']] as const) {
  test(`sign → verify round trip with ${label} (${hash}), and tampering fails`, async () => {
    const dir = model();
    const { priv, pub } = keyPair(curve);
    const sig = join(dir, 'model.sig');
    const r = await signModel(dir, { key: priv, output: sig });
    assert.equal(r.curve, label);
    assert.deepEqual(r.digest.files.map((f) => f.name), ['config.json', 'empty', 'sub/weights.bin']);
    const ok = await verifyModel(dir, { signaturePath: sig, key: pub });
    assert.equal(ok.valid, true, ok.reason);
    assert.equal(ok.rootDigest, r.digest.rootDigest);

    const other = keyPair(curve);
    const wrong = await verifyModel(dir, { signaturePath: sig, key: other.pub });
    assert.equal(wrong.code, 'KEY_MISMATCH');

    appendFileSync(join(dir, 'sub', 'weights.bin'), 'x');
    const changed = await verifyModel(dir, { signaturePath: sig, key: pub });
    assert.equal(changed.code, 'DIGEST_MISMATCH');
    assert.match(changed.reason!, /hash mismatch for sub\/weights\.bin/);
  });
}

test('the bundle has the shape of an OMS v1.1.0 key bundle, field by field', async () => {
  const dir = model();
  const sig = join(dir, 'model.sig');
  await signModel(dir, { key: join(K, 'signing-key.pem'), output: sig, ignorePaths: [join(dir, 'empty')] });
  const ours = JSON.parse(readFileSync(sig, 'utf8'));
  const theirs = JSON.parse(readFileSync(join(MS, 'valid/v1.1.0-elliptic-key/model.sig'), 'utf8'));
  const keysOf = (o: Record<string, unknown>): string[] => Object.keys(o).sort();
  assert.deepEqual(keysOf(ours), keysOf(theirs));
  assert.deepEqual(keysOf(ours.verificationMaterial), keysOf(theirs.verificationMaterial));
  assert.equal(ours.verificationMaterial.publicKey.hint, theirs.verificationMaterial.publicKey.hint, 'same key, same hint');
  assert.deepEqual(keysOf(ours.dsseEnvelope), keysOf(theirs.dsseEnvelope));
  assert.deepEqual(ours.dsseEnvelope.signatures.map(keysOf), theirs.dsseEnvelope.signatures.map(keysOf));
  const st = JSON.parse(Buffer.from(ours.dsseEnvelope.payload, 'base64').toString());
  const ref = JSON.parse(Buffer.from(theirs.dsseEnvelope.payload, 'base64').toString());
  assert.deepEqual(keysOf(st), keysOf(ref));
  assert.deepEqual(keysOf(st.predicate), keysOf(ref.predicate));
  assert.deepEqual(keysOf(st.predicate.serialization), keysOf(ref.predicate.serialization));
  assert.deepEqual(st.predicate.resources.map(keysOf), [['algorithm', 'digest', 'name'], ['algorithm', 'digest', 'name']]);
  assert.deepEqual(st.predicate.serialization.ignore_paths, ['.git', '.gitattributes', '.github', '.gitignore', 'empty', 'model.sig']);
  assert.equal(st.subject[0].name, dir.split('/').pop());
  // Recorded ignore paths are re-applied: no caller input needed to verify.
  const r = await verifyModel(dir, { signaturePath: sig, key: join(K, 'signing-key-pub.pem') });
  assert.equal(r.valid, true, r.reason);
});

test('the published vector statement re-signed by modelgate verifies (same key, same manifest)', async () => {
  const dir = join(tmp, `copy-${n++}`);
  cpSync(join(MS, 'valid/v1.1.0-elliptic-key'), dir, { recursive: true });
  const sig = join(tmp, `vector-${n++}.sig`);
  const r = await signModel(dir, { key: join(K, 'signing-key.pem'), output: sig, ignorePaths: [join(dir, 'ignore-me'), join(dir, 'model.sig')] });
  assert.equal(r.digest.rootDigest, '92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4');
  assert.equal((await verifyModel(dir, { signaturePath: sig, key: join(K, 'signing-key-pub.pem') })).valid, true);
});

test('certificate chain signing: leaf + intermediate in the bundle, verified against the root CA', async () => {
  const dir = model();
  const sig = join(dir, 'model.sig');
  const r = await signModel(dir, { key: join(K, 'signing-key.pem'), certChain: [join(K, 'signing-key-cert.pem'), join(K, 'int-ca-cert.pem'), join(K, 'ca-cert.pem')], output: sig });
  assert.equal(r.method, 'certificate');
  const bundle = JSON.parse(readFileSync(sig, 'utf8'));
  assert.equal(bundle.verificationMaterial.x509CertificateChain.certificates.length, 2, 'the self-signed root is left out');
  const ok = await verifyModel(dir, { signaturePath: sig, certChain: join(K, 'ca-cert.pem') });
  assert.equal(ok.valid, true, ok.reason);
  const untrusted = await verifyModel(dir, { signaturePath: sig, certChain: join(K, 'other/other-root-ca-cert.pem') });
  assert.equal(untrusted.code, 'CHAIN_INVALID');
  await assert.rejects(signModel(dir, { key: join(K, 'other/other-p384-key.pem'), certChain: [join(K, 'signing-key-cert.pem')], output: join(tmp, 'x.sig') }), /not for the signing key/);
});

test('shards serialization round-trips; extra and missing files are named', async () => {
  const dir = model();
  const { priv, pub } = keyPair('prime256v1');
  const sig = join(tmp, `shards-${n++}.sig`);
  const r = await signModel(dir, { key: priv, output: sig, serialization: 'shards', shardSize: 32 });
  assert.equal(r.digest.resources.length, 1 + 4, 'config.json: 1 shard, weights: 4, empty: none');
  assert.equal((await verifyModel(dir, { signaturePath: sig, key: pub })).valid, true);
  writeFileSync(join(dir, 'new.txt'), 'n');
  unlinkSync(join(dir, 'config.json'));
  const bad = await verifyModel(dir, { signaturePath: sig, key: pub });
  assert.equal(bad.code, 'DIGEST_MISMATCH');
  assert.deepEqual(bad.differences, { mismatched: [], extra: ['new.txt'], missing: ['config.json'] });
});

test('edited envelope: payload changed after signing fails as an invalid signature', async () => {
  const dir = model();
  const { priv, pub } = keyPair('secp384r1');
  const sig = join(dir, 'model.sig');
  await signModel(dir, { key: priv, output: sig });
  const bundle = JSON.parse(readFileSync(sig, 'utf8'));
  const st = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString());
  st.predicate.serialization.ignore_paths.push('sub');
  bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(st, null, 2)).toString('base64');
  writeFileSync(sig, JSON.stringify(bundle));
  assert.equal((await verifyModel(dir, { signaturePath: sig, key: pub })).code, 'SIGNATURE_INVALID');
});

test('RSA and Ed25519 keys are refused for signing', async () => {
  const dir = model();
  for (const [type, opts] of [['rsa', { modulusLength: 2048 }], ['ed25519', {}]] as const) {
    const { privateKey } = generateKeyPairSync(type as 'rsa', opts as { modulusLength: number });
    const p = join(tmp, `${type}.pem`);
    writeFileSync(p, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await assert.rejects(signModel(dir, { key: p, output: join(tmp, 'no.sig') }), (e: unknown) => e instanceof ModelgateError && /EC P-256, P-384 or P-521/.test(e.message));
  }
});

test('CLI: sign, verify (exit 0), tamper (exit 1), usage (exit 2), hash --json', () => {
  assert.ok(CLI.endsWith('bin/modelgate.js'));
  const dir = model();
  const { priv, pub } = keyPair('prime256v1');
  const sig = join(dir, 'model.sig');
  const s = runCli(['sign', dir, '--key', priv, '--output', sig, '--json']);
  assert.equal(s.code, 0, s.stderr);
  const signed = JSON.parse(s.stdout);
  const h = runCli(['hash', dir, '--json']);
  assert.equal(h.code, 0, h.stderr);
  const hashed = JSON.parse(h.stdout);
  assert.notEqual(hashed.rootDigest, signed.rootDigest, 'hash includes model.sig unless told');
  const h2 = JSON.parse(runCli(['hash', dir, '--json', '--ignore-paths', sig]).stdout);
  assert.equal(h2.rootDigest, signed.rootDigest);
  assert.deepEqual(h2.files.map((f: { name: string }) => f.name), ['config.json', 'empty', 'sub/weights.bin']);
  const v = runCli(['verify', dir, '--signature', sig, '--key', pub]);
  assert.equal(v.code, 0, v.stdout + v.stderr);
  assert.match(v.stdout, /^VALID /);
  writeFileSync(join(dir, 'extra.bin'), 'x');
  const bad = runCli(['verify', dir, '--signature', sig, '--key', pub, '--json']);
  assert.equal(bad.code, 1);
  assert.equal(JSON.parse(bad.stdout).code, 'DIGEST_MISMATCH');
  assert.equal(runCli(['verify', dir, '--signature', sig]).code, 2);
  assert.equal(runCli(['verify', dir, '--signature', join(dir, 'nope.sig'), '--key', pub]).code, 2);
  const shards = JSON.parse(runCli(['hash', dir, '--json', '--serialization', 'shards', '--shard-size', '64']).stdout);
  assert.equal(shards.resources[0].algorithm, 'sha256-sharded-64');
});

test('an independent verifier (@sigstore/verify) accepts a P-256 bundle made by modelgate, and rejects it with another key', async () => {
  const dir = model();
  const { priv, pub } = keyPair('prime256v1');
  const sig = join(tmp, `p256-${n++}.sig`);
  const r = await signModel(dir, { key: priv, output: sig });
  const bundle = bundleFromJSON(JSON.parse(readFileSync(sig, 'utf8')));
  const emptyRoot = TrustedRoot.fromJSON({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] });
  const keyFor = (pem: string) => (hint: string) => {
    assert.equal(hint, r.keyHint);
    return { publicKey: createPublicKey(readFileSync(pem)), validFor: () => true };
  };
  const opts = { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 };
  assert.doesNotThrow(() => new Verifier(toTrustMaterial(emptyRoot, keyFor(pub)), opts).verify(toSignedEntity(bundle)));
  const other = keyPair('prime256v1');
  assert.throws(() => new Verifier(toTrustMaterial(emptyRoot, keyFor(other.pub)), opts).verify(toSignedEntity(bundle)), /signature/i);
});

test('--ignore-unsigned-files: extra files pass, missing files still fail', async () => {
  const extra = join(MS, 'negative/n02-extra-unsigned-file');
  const pub = join(K, 'signing-key-pub.pem');
  const r = await verifyModel(extra, { signaturePath: join(extra, 'model.sig'), key: pub, ignoreUnsignedFiles: true });
  assert.equal(r.valid, true, r.reason);
  const missing = join(MS, 'negative/n03-missing-file');
  const m = await verifyModel(missing, { signaturePath: join(missing, 'model.sig'), key: pub, ignoreUnsignedFiles: true });
  assert.equal(m.code, 'DIGEST_MISMATCH');
  const cli = runCli(['verify', extra, '--signature', join(extra, 'model.sig'), '--key', pub, '--ignore-unsigned-files']);
  assert.equal(cli.code, 0, cli.stdout + cli.stderr);
});
