// `intake hf://ORG/NAME@REV` (and https:// or local sources): fetch into the quarantine store, where
// every file was verified against the source's digests while streaming, lay the verified blobs out
// as the model folder, and intake that folder. The source and manifest digest are returned with it.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { fetchSource, type FetchOptions } from '../../provenance/sources/index.ts';
import { ContentStore, DEFAULT_STORE } from '../../provenance/quarantine/index.ts';
import { ModelgateError } from '../../scan/model.ts';
import type { Store } from '../store/index.ts';
import { intake, type IntakeOptions, type IntakeResult } from './index.ts';

export interface SourceIntakeResult extends IntakeResult {
  source: { spec: string; resolvedCommit: string | null; manifestDigest: string };
}

export async function intakeSource(store: Store, spec: string, fetch: FetchOptions, o: IntakeOptions): Promise<SourceIntakeResult> {
  const fetched = await fetchSource(spec, fetch);
  const blobs = new ContentStore(fetch.store ?? DEFAULT_STORE);
  const dir = mkdtempSync(join(tmpdir(), 'mg-intake-'));
  try {
    for (const f of fetched.manifest.files) {
      const rel = normalize(f.path);
      // Manifest paths come from the source's listing: never let one escape the folder.
      if (isAbsolute(rel) || rel === '..' || rel.startsWith(`..${sep}`)) throw new ModelgateError('UNSAFE_PATH', `${spec}: file path "${f.path}" leaves the model folder`);
      const to = join(dir, rel);
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(blobs.blobPath(f.sha256), to);
    }
    const r = await intake(store, dir, { ...o, publisher: o.publisher ?? spec });
    return { ...r, source: { spec, resolvedCommit: fetched.manifest.resolvedCommit, manifestDigest: fetched.manifestDigest } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
