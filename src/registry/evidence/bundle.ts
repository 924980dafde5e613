// The auditor's bundle: every envelope as a file named by its id, an index, and how to check them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type KeyObject } from 'node:crypto';
import { ModelgateError } from '../../scan/model.ts';
import { envelopeBytes, evidenceId, type Evidence } from './envelope.ts';

export interface BundleIndexEntry {
  id: string;
  file: string;
  kind: string;
  predicateType: string;
  subject: { name: string; sha256: string }[];
  created: string;
  signed: boolean;
  keyids: string[];
}

export interface BundleIndex {
  schemaVersion: 1;
  tool: 'modelgate';
  exported: string;
  count: number;
  items: BundleIndexEntry[];
}

export interface ExportOptions {
  /** Written as public-key.pem so the auditor can check signatures. */
  publicKey?: KeyObject;
  /** Free text placed at the top of README.txt (e.g. "llama-3-8b@3 for production"). */
  title?: string;
  exported?: Date;
}

const README = (title: string | undefined, hasKey: boolean) => `${title ? `${title}\n\n` : ''}modelgate evidence bundle
=========================

Each <id>.json file is one piece of evidence: a DSSE envelope
  { "payloadType": "application/vnd.in-toto+json", "payload": <base64>, "signatures": [{ "keyid", "sig" }] }
whose payload is an in-toto Statement v1
  { "_type": "https://in-toto.io/Statement/v1", "subject": [{ "name", "digest": { "sha256": <model root digest> } }],
    "predicateType": <URI>, "predicate": { ... } }.
index.json lists every file with its kind, predicateType, subject digest and creation time.

1. Check that nothing was altered or swapped.
   The id is the SHA-256 of the envelope in canonical JSON (RFC 8785: keys sorted, no whitespace),
   and each file holds exactly those bytes, so the file's SHA-256 is its name:
     for f in [0-9a-f]*.json; do test "$(sha256sum "$f" | cut -c1-64).json" = "$f" || echo "ALTERED: $f"; done
   (If a file was re-formatted, canonicalise it before hashing.)

2. Check that each statement is about the model you hold.
   Decode the payload (base64 -d) and compare subject[].digest.sha256 with the model's root digest
   (modelgate hash MODEL prints it; it is the OpenSSF Model Signing root digest).

3. Check signatures${hasKey ? ' with public-key.pem' : ' with the signer\'s public key'}.
   Each "sig" is an ECDSA signature (DER, base64) over the DSSE pre-authentication encoding
     PAE = "DSSEv1" SP len(payloadType) SP payloadType SP len(payload) SP payload
   where payload is the decoded bytes and lengths are decimal byte counts; SHA-256 for P-256 keys.
   With OpenSSL and jq, for one file:
     F=<id>.json; T=application/vnd.in-toto+json
     jq -r .payload "$F" | base64 -d > payload.bin
     { printf 'DSSEv1 %d %s %d ' \${#T} "$T" $(stat -c %s payload.bin); cat payload.bin; } > pae.bin
     jq -r '.signatures[0].sig' "$F" | base64 -d > sig.der
     openssl dgst -sha256 -verify public-key.pem -signature sig.der pae.bin
   Evidence with an empty "signatures" list is unsigned: its integrity rests on the id alone.
`;

/**
 * Writes one canonical envelope file per item (named <id>.json), index.json and README.txt into
 * dir (created if needed). Refuses an item whose id does not match its envelope.
 */
export function exportEvidenceBundle(items: readonly Evidence[], dir: string, opts: ExportOptions = {}): BundleIndex {
  const entries: BundleIndexEntry[] = [];
  const seen = new Set<string>();
  for (const e of items) {
    const id = evidenceId(e.envelope);
    if (id !== e.id) throw new ModelgateError('EVIDENCE_ID_MISMATCH', `evidence ${e.id}: its envelope hashes to ${id}`);
    if (seen.has(id)) continue;
    seen.add(id);
    entries.push({
      id,
      file: `${id}.json`,
      kind: e.kind,
      predicateType: e.statement.predicateType,
      subject: e.statement.subject.map((s) => ({ name: s.name, sha256: s.digest.sha256 })),
      created: e.created,
      signed: e.envelope.signatures.length > 0,
      keyids: e.envelope.signatures.map((s) => s.keyid),
    });
  }
  entries.sort((a, b) => (a.created < b.created ? -1 : a.created > b.created ? 1 : a.id < b.id ? -1 : 1));
  const index: BundleIndex = { schemaVersion: 1, tool: 'modelgate', exported: (opts.exported ?? new Date()).toISOString(), count: entries.length, items: entries };
  try {
    mkdirSync(dir, { recursive: true });
    const byId = new Map(items.map((e) => [e.id, e]));
    for (const en of entries) writeFileSync(join(dir, en.file), envelopeBytes(byId.get(en.id)!.envelope));
    writeFileSync(join(dir, 'index.json'), JSON.stringify(index, null, 2) + '\n');
    writeFileSync(join(dir, 'README.txt'), README(opts.title, !!opts.publicKey));
    if (opts.publicKey) writeFileSync(join(dir, 'public-key.pem'), opts.publicKey.export({ type: 'spki', format: 'pem' }) as string);
  } catch (e) {
    throw new ModelgateError('UNWRITABLE', `${dir}: cannot write the evidence bundle (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return index;
}
