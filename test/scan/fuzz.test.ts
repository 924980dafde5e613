// Seeded mutation fuzzing of valid pickles, zips (PyTorch archives) and safetensors through the whole
// scanner: every case must end in a report (never an exception), with a status on every row, quickly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BufferSource } from '../../src/formats/source.ts';
import { scanSource } from '../../src/scan/walker.ts';
import { FIXTURES } from '../helpers/scan.ts';
import { lcg } from '../helpers/random.ts';

const SEEDS = [
  ['pickle', `${FIXTURES}/real/plain_p4.pkl`],
  ['pickle-p0', `${FIXTURES}/real/plain_p0.pkl`],
  ['joblib', `${FIXTURES}/real/logreg.joblib`],
  ['torch-zip', `${FIXTURES}/real/state_dict.pt`],
  ['torch-legacy', `${FIXTURES}/real/legacy_state_dict.pt`],
  ['safetensors', `${FIXTURES}/corpus/safetensors/weights.safetensors`],
  ['npy', `${FIXTURES}/real/float32.npy`],
] as const;
const CASES = Number(process.env.MODELGATE_FUZZ_CASES ?? 150);


function mutate(src: Uint8Array, rnd: () => number): Uint8Array {
  const b = Uint8Array.from(src);
  const kind = Math.floor(rnd() * 5);
  const at = Math.floor(rnd() * b.length);
  if (kind === 0) for (let i = 0; i < 1 + rnd() * 8; i++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
  else if (kind === 1) return b.subarray(0, at); // truncate
  else if (kind === 2) for (let i = 0; i < 4 && at + i < b.length; i++) b[at + i] = 0xff; // huge lengths
  else if (kind === 3) return Uint8Array.from([...b.subarray(0, at), ...b.subarray(at, Math.min(b.length, at + 64)), ...b.subarray(at)]); // duplicate a run
  else b[at] ^= 1 << Math.floor(rnd() * 8);
  return b;
}

for (const [name, path] of SEEDS) {
  test(`fuzz ${name}: ${CASES} seeded mutations never crash or hang`, async () => {
    const seed = readFileSync(path);
    const rnd = lcg(0xc0ffee ^ name.length);
    let errors = 0;
    for (let i = 0; i < CASES; i++) {
      const bytes = mutate(seed, rnd);
      const t0 = performance.now();
      const rows = await scanSource(new BufferSource(bytes), `case-${i}.${name.includes('safetensors') ? 'safetensors' : 'bin'}`, { hash: false, limits: { timeoutMs: 5000 } });
      const ms = performance.now() - t0;
      assert.ok(ms < 3000, `case ${i} took ${ms.toFixed(0)} ms`);
      assert.ok(rows.length >= 1);
      for (const r of rows) {
        assert.ok(['scanned', 'skipped', 'error'].includes(r.status));
        if (r.status === 'error') {
          errors++;
          assert.ok(r.findings.length > 0, `case ${i}: error without a finding`);
        }
        for (const f of r.findings) assert.ok(f.ruleId && f.message && f.severity);
      }
    }
    // The mutations must actually reach the error paths, or this test proves nothing.
    assert.ok(errors > CASES / 20, `only ${errors} of ${CASES} mutations were rejected`);
  });
}
