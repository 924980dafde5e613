// Flax msgpack checkpoints (flax.serialization.to_bytes layout, written by python3-msgpack in
// test/fixtures/keras/make_fixtures.py): a clean state dict, odd and crafted variants, hostile bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { BufferSource } from '../../src/formats/source.ts';
import { scanSource } from '../../src/scan/walker.ts';
import { FIXTURES, scanOne } from '../helpers/scan.ts';

const K = `${FIXTURES}/keras`;

test('clean Flax state dict: no findings', async () => {
  const { report, code } = await scanOne(`${K}/flax_model.msgpack`);
  assert.equal(code, 0);
  assert.equal(report.files[0].format, 'msgpack');
  assert.equal(report.files[0].status, 'scanned');
  assert.deepEqual(report.files[0].findings, []);
});

test('unknown ext type, object dtype, raw bytes and non-string keys are reported', async () => {
  const rules = async (f: string) => (await scanOne(`${K}/${f}`)).report.files[0].findings.map((x) => `${x.severity} ${x.ruleId}`);
  assert.deepEqual(await rules('flax_unknown_ext.msgpack'), ['medium MG-FLAX-001']);
  assert.deepEqual(await rules('flax_object_dtype.msgpack'), ['medium MG-FLAX-002']);
  assert.deepEqual(await rules('flax_odd_leaves.msgpack'), ['medium MG-FLAX-003', 'low MG-FLAX-003']);
});

test('array size mismatch and trailing data', async () => {
  // {"w": ext1(((2,), "float32", 4 bytes))} + one trailing byte
  const inner = Buffer.from([0x93, 0x91, 0x02, 0xa7, ...Buffer.from('float32'), 0xc4, 0x04, 0, 0, 0, 0]);
  const bytes = Buffer.concat([Buffer.from([0x81, 0xa1, 0x77, 0xc7, inner.length, 0x01]), inner, Buffer.from([0x00])]);
  const rows = await scanSource(new BufferSource(bytes), 'params.msgpack', { hash: false });
  assert.deepEqual(rows[0].findings.map((x) => `${x.severity} ${x.ruleId}`), ['medium MG-FLAX-003', 'medium MG-FLAX-002']);
});

test('msgpack is taken only by name and a leading map', async () => {
  const map = Buffer.from([0x81, 0xa1, 0x61, 0x01]);
  assert.equal((await scanSource(new BufferSource(map), 'state.msgpack', { hash: false }))[0].format, 'msgpack');
  assert.notEqual((await scanSource(new BufferSource(map), 'state.bin', { hash: false }))[0].format, 'msgpack');
  // Named .msgpack but not a map: fails closed as an unknown model file.
  const rows = await scanSource(new BufferSource(Buffer.from([0x93, 1, 2, 3])), 'x.msgpack', { hash: false });
  assert.equal(rows[0].status, 'error');
});

for (const f of readdirSync(`${K}/hostile`).filter((x) => x.endsWith('.msgpack'))) {
  test(`hostile ${f}: error status with MG-FLAX-004, quickly`, async () => {
    const t0 = performance.now();
    const { report, code } = await scanOne(`${K}/hostile/${f}`);
    assert.equal(code, 2);
    assert.equal(report.files[0].status, 'error');
    assert.equal(report.files[0].findings[0].ruleId, 'MG-FLAX-004');
    assert.ok(performance.now() - t0 < 2000);
  });
}
