// HDF5 root-attribute reader: files written by h5py (test/fixtures/keras/make_fixtures.py) in every
// layout Keras meets — v0 superblock with vlen and fixed strings, user block, v3 superblock with dense
// attribute storage (managed, huge and indirect-block heap objects, B-trees with internal nodes) — and
// hostile inputs that must end in FormatError/LimitError, never a crash or a hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { FormatError, LimitError } from '../../src/formats/errors.ts';
import { BufferSource, FileSource } from '../../src/formats/source.ts';
import { looksLikeHdf5, readRootAttributes, type Hdf5Attribute } from '../../src/formats/hdf5/index.ts';
import { FIXTURES } from '../helpers/scan.ts';

const K = `${FIXTURES}/keras`;

function attrs(file: string): Map<string, Hdf5Attribute> {
  const src = new FileSource(`${K}/${file}`);
  try {
    return new Map(readRootAttributes(src).attributes.map((a) => [a.name, a]));
  } finally {
    src.close();
  }
}

function str(a: Hdf5Attribute | undefined): string {
  assert.ok(a && a.value.kind === 'string', `not a string attribute: ${JSON.stringify(a)}`);
  return a.value.values[0];
}

test('Keras 2 .h5 (v0 superblock, vlen strings in the global heap): every root attribute', () => {
  const a = attrs('keras2_sequential.h5');
  assert.deepEqual([...a.keys()].sort(), ['backend', 'keras_version', 'model_config', 'training_config']);
  assert.equal(str(a.get('keras_version')), '2.15.0');
  assert.equal(str(a.get('backend')), 'tensorflow');
  const config = JSON.parse(str(a.get('model_config')));
  assert.equal(config.class_name, 'Sequential');
  assert.deepEqual(config.config.layers.map((l: { class_name: string }) => l.class_name), ['InputLayer', 'Conv2D', 'BatchNormalization', 'MaxPooling2D', 'Flatten', 'Dropout', 'Dense']);
  const v = a.get('model_config')!.value;
  assert.ok(v.kind === 'string' && v.variableLength);
});

test('fixed-length string attributes (np.bytes_, h5py 2 era)', () => {
  const a = attrs('keras2_functional_fixed.h5');
  const v = a.get('model_config')!.value;
  assert.ok(v.kind === 'string' && !v.variableLength);
  assert.equal(JSON.parse(str(a.get('model_config'))).class_name, 'Functional');
});

test('a model_config larger than 64 KiB: vlen (v0) and dense huge object (v3)', () => {
  for (const f of ['keras2_big_config.h5', 'keras2_big_config_dense.h5']) {
    const text = str(attrs(f).get('model_config'));
    assert.ok(text.length > 64 * 1024, `${f}: ${text.length}`);
    assert.equal(JSON.parse(text).config.layers.length, 301);
  }
  const src = new FileSource(`${K}/keras2_big_config_dense.h5`);
  const root = readRootAttributes(src);
  src.close();
  assert.equal(root.superblock.version, 3);
  assert.equal(root.dense, true);
});

test('1,500+ dense attributes: B-tree internal nodes and indirect heap blocks', () => {
  const a = attrs('keras2_many_attrs_dense.h5');
  assert.equal(a.size, 1504);
  assert.equal(str(a.get('note_00000')), 'value 0');
  assert.equal(str(a.get('note_01499')), 'value 1499');
  assert.equal(JSON.parse(str(a.get('model_config'))).class_name, 'Sequential');
});

test('user block: the superblock at 512 and addresses relative to it', () => {
  const src = new FileSource(`${K}/keras2_userblock.h5`);
  const root = readRootAttributes(src);
  src.close();
  assert.equal(root.superblock.offset, 512);
  assert.equal(root.attributes.find((x) => x.name === 'keras_version')?.value.kind, 'string');
});

test('plain data: string arrays, numbers described but not decoded', () => {
  const a = attrs('plain_data.h5');
  assert.deepEqual(a.get('names')?.shape, [3]);
  const names = a.get('names')!.value;
  assert.ok(names.kind === 'string');
  assert.deepEqual(names.values, ['alpha', 'beta', 'gamma']);
  assert.equal(str(a.get('fixed')), 'fixed-length');
  assert.deepEqual(a.get('scale')?.value, { kind: 'other', datatypeClass: 1, size: 8 });
  assert.deepEqual(a.get('counts')?.shape, [10]);
  assert.equal(a.has('model_config'), false, 'only the root group is read');
});

test('signature detection at 0 and after a user block', () => {
  assert.ok(looksLikeHdf5(readFileSync(`${K}/keras2_sequential.h5`).subarray(0, 4096)));
  assert.ok(looksLikeHdf5(readFileSync(`${K}/keras2_userblock.h5`).subarray(0, 4096)));
  assert.ok(!looksLikeHdf5(new Uint8Array(4096)));
});

const HOSTILE: Record<string, RegExp> = {
  'h5_truncated.h5': /outside the 1200-byte file/,
  'h5_continuation_loop.h5': /cycle/,
  'h5_huge_dataspace.h5': /declares 1099511627776 × 4 bytes/,
  'h5_huge_gcol.h5': /global heap collection/,
  'h5_root_outside.h5': /outside the 96-byte file/,
  'h5_bad_superblock.h5': /superblock version 9/,
  'h5_message_overflow.h5': /runs past its header chunk/,
};

for (const [file, message] of Object.entries(HOSTILE)) {
  test(`hostile ${file}: FormatError`, () => {
    const bytes = readFileSync(`${K}/hostile/${file}`);
    assert.throws(() => readRootAttributes(new BufferSource(bytes)), (e: unknown) => e instanceof FormatError && message.test(e.message));
  });
}

test('a shared datatype on an attribute is reported as unsupported, not guessed', () => {
  const root = readRootAttributes(new BufferSource(readFileSync(`${K}/hostile/h5_shared_datatype.h5`)));
  assert.equal(root.attributes[0].value.kind, 'unsupported');
});

test('value budget: attribute bytes beyond the limit are a LimitError', () => {
  const bytes = readFileSync(`${K}/keras2_big_config.h5`);
  assert.throws(() => readRootAttributes(new BufferSource(bytes), { maxValueBytes: 10_000 }), LimitError);
});

test('seeded mutation fuzz: only FormatError/LimitError, quickly', () => {
  const seeds = ['keras2_sequential.h5', 'keras2_big_config_dense.h5', 'keras2_many_attrs_dense.h5', 'keras2_userblock.h5'].map((f) => readFileSync(`${K}/${f}`));
  let state = 12345;
  const rand = (n: number) => {
    state = (state * 1103515245 + 12345) >>> 0;
    return state % n;
  };
  const t0 = Date.now();
  let failures = 0;
  for (let i = 0; i < 600; i++) {
    const seed = seeds[i % seeds.length];
    const b = Uint8Array.from(seed.subarray(0, Math.min(seed.length, 8192 + rand(seed.length))));
    // Mutations land in the metadata (the first 4 KiB and the attribute structures after it).
    for (let k = 0; k < 1 + rand(8); k++) b[rand(Math.min(b.length, 4096 + rand(b.length)))] = rand(256);
    try {
      readRootAttributes(new BufferSource(b), { maxSteps: 200_000 });
    } catch (e) {
      if (!(e instanceof FormatError || e instanceof LimitError)) {
        failures++;
        assert.fail(`mutation ${i} threw ${(e as Error).stack}`);
      }
    }
  }
  assert.equal(failures, 0);
  assert.ok(Date.now() - t0 < 20_000, `fuzz took ${Date.now() - t0} ms`);
});
