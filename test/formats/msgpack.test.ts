// Bounded msgpack decoder: every type of the spec, Flax's layout (made by python3-msgpack in
// test/fixtures/keras/make_fixtures.py), and hostile declared lengths, counts and nesting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { FormatError, LimitError } from '../../src/formats/errors.ts';
import { BufferSource } from '../../src/formats/source.ts';
import { decodeMsgpack, startsWithMsgpackMap, type MsgNode } from '../../src/formats/msgpack/index.ts';
import { FIXTURES } from '../helpers/scan.ts';

const dec = (bytes: number[] | Uint8Array) => decodeMsgpack(new BufferSource(Uint8Array.from(bytes)));

/** Plain JS value of a node (bin/ext as markers), for assertions. */
function plain(n: MsgNode): unknown {
  switch (n.t) {
    case 'nil': return null;
    case 'bool': case 'int': case 'float': case 'str': return n.v;
    case 'bin': return { bin: n.len };
    case 'ext': return { ext: n.type, len: n.len };
    case 'arr': return n.items.map(plain);
    case 'map': return Object.fromEntries(n.entries.map(([k, v]) => [String(plain(k)), plain(v)]));
  }
}

test('scalars, strings, containers, bin and ext of every width', () => {
  assert.equal(plain(dec([0x05]).root), 5);
  assert.equal(plain(dec([0xff]).root), -1);
  assert.equal(plain(dec([0xcd, 0x01, 0x00]).root), 256);
  assert.equal(plain(dec([0xd1, 0xff, 0x00]).root), -256);
  assert.equal(plain(dec([0xcf, 0, 0, 0, 1, 0, 0, 0, 0]).root), 2 ** 32);
  assert.equal(plain(dec([0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]).root), 1.5);
  assert.equal(plain(dec([0xca, 0x3f, 0xc0, 0, 0]).root), 1.5);
  assert.equal(plain(dec([0xc3]).root), true);
  assert.equal(plain(dec([0xc0]).root), null);
  assert.equal(plain(dec([0xa2, 0x68, 0x69]).root), 'hi');
  assert.equal(plain(dec([0xd9, 2, 0x68, 0x69]).root), 'hi');
  assert.deepEqual(plain(dec([0x92, 1, 2]).root), [1, 2]);
  assert.deepEqual(plain(dec([0xdc, 0, 1, 7]).root), [7]);
  assert.deepEqual(plain(dec([0x81, 0xa1, 0x61, 0xc4, 3, 1, 2, 3]).root), { a: { bin: 3 } });
  assert.deepEqual(plain(dec([0xd4, 0x01, 0x00]).root), { ext: 1, len: 1 });
  assert.deepEqual(plain(dec([0xc7, 2, 0xfe, 0, 0]).root), { ext: -2, len: 2 });
  const r = dec([0x91, 0x01, 0xc0]);
  assert.equal(r.end, 2, 'end is where the value stops (trailing bytes are the caller\'s business)');
});

test('the Flax fixture decodes to a state dict of ext-1 arrays', () => {
  const bytes = readFileSync(`${FIXTURES}/keras/flax_model.msgpack`);
  assert.ok(startsWithMsgpackMap(bytes));
  const { root, end } = decodeMsgpack(new BufferSource(bytes));
  assert.equal(end, bytes.length);
  const v = plain(root) as Record<string, Record<string, Record<string, unknown>>>;
  assert.deepEqual(Object.keys(v).sort(), ['lr', 'note', 'opt_state', 'params', 'step']);
  assert.deepEqual((v.params.Dense_0 as Record<string, unknown>).kernel, { ext: 1, len: (v.params.Dense_0 as Record<string, { len: number }>).kernel.len });
});

test('declared lengths and counts beyond the bytes left are FormatErrors, never allocations', () => {
  for (const bytes of [
    [0xdb, 0xff, 0xff, 0xff, 0xff, 0x61],
    [0xc6, 0xff, 0xff, 0xff, 0xff],
    [0xc9, 0xff, 0xff, 0xff, 0xff, 0x01],
    [0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0],
    [0xdf, 0x7f, 0xff, 0xff, 0xff, 0xc0, 0xc0],
    [0xcb, 0x00],
    [0xc1],
    [],
  ]) {
    assert.throws(() => dec(bytes), FormatError, JSON.stringify(bytes));
  }
});

test('nesting and node count are bounded', () => {
  const deep = new Uint8Array(200_001).fill(0x91);
  deep[deep.length - 1] = 0xc0;
  assert.throws(() => dec(deep), (e: unknown) => e instanceof FormatError && /nested deeper/.test(e.message));
  const wide = Uint8Array.from([0xdc, 0x03, 0xe8, ...new Array(1000).fill(0xc0)]);
  assert.throws(() => decodeMsgpack(new BufferSource(wide), 0, wide.length, { maxNodes: 100 }), LimitError);
});
