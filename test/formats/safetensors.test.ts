// Fixtures in test/fixtures/formats/*.safetensors are copies of the shared corpus samples
// (weights: valid F32 tensor with metadata; huge_header: header length 2^62; overlap: two I32 tensors
// whose offsets overlap). Every hostile case below is built in code.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { FormatError, LimitError } from '../../src/formats/errors.ts';
import { BufferSource, type ByteSource } from '../../src/formats/source.ts';
import {
  looksLikeSafetensors,
  parseSafetensors,
  type SafetensorsInfo,
  type SafetensorsProblemKind,
} from '../../src/formats/safetensors/index.ts';
import { lcg, concat } from '../helpers/random.ts';

const LIMITS = { maxHeaderBytes: 100_000_000 };
const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../fixtures/formats/${name}`, import.meta.url)));
const enc = new TextEncoder();

/** A safetensors file: 8-byte LE length, header (space-padded to 8 like the reference writer), data. */
function build(header: string | Uint8Array, data: Uint8Array | number = 0, opts: { length?: bigint; pad?: boolean } = {}): Uint8Array {
  let h = typeof header === 'string' ? enc.encode(header) : header;
  if (opts.pad !== false && h.length % 8 !== 0) {
    const padded = new Uint8Array(h.length + (8 - (h.length % 8))).fill(0x20);
    padded.set(h);
    h = padded;
  }
  const d = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + h.length + d.length);
  new DataView(out.buffer).setBigUint64(0, opts.length ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(d, 8 + h.length);
  return out;
}

const parse = (bytes: Uint8Array, limits = LIMITS) => parseSafetensors(new BufferSource(bytes), limits);
const kinds = (info: SafetensorsInfo) => info.problems.map((p) => p.kind);
function only(info: SafetensorsInfo, kind: SafetensorsProblemKind): void {
  assert.deepEqual(kinds(info), [kind], JSON.stringify(info.problems));
}
const t = (dtype: unknown, shape: unknown, offsets: unknown) => ({ dtype, shape, data_offsets: offsets });
const header = (o: Record<string, unknown>) => JSON.stringify(o);

/** Records every read so a test can prove a declared length was never allocated. */
class SpySource implements ByteSource {
  readonly size: number;
  maxRead = 0;
  constructor(private readonly inner: ByteSource, size?: number) {
    this.size = size ?? inner.size;
  }
  read(offset: number, length: number): Uint8Array {
    this.maxRead = Math.max(this.maxRead, length);
    return this.inner.read(offset, length);
  }
}

describe('safetensors fixtures', () => {
  it('parses a valid file', () => {
    const bytes = fixture('weights.safetensors');
    assert.equal(looksLikeSafetensors(bytes.subarray(0, 64), bytes.length), true);
    const info = parse(bytes);
    assert.deepEqual(info.problems, []);
    assert.equal(info.headerLength, 88);
    assert.equal(info.dataOffset, 96);
    assert.deepEqual({ ...info.metadata }, { format: 'pt' });
    assert.deepEqual(info.tensors, [{ name: 'w', dtype: 'F32', shape: [2, 2], begin: 0, end: 16 }]);
  });

  it('reports a 2^62 header length without reading it', () => {
    const bytes = fixture('huge_header.safetensors');
    assert.equal(looksLikeSafetensors(bytes, bytes.length), true);
    const spy = new SpySource(new BufferSource(bytes));
    const info = parseSafetensors(spy, LIMITS);
    only(info, 'header-length');
    assert.ok(spy.maxRead <= 8);
    assert.deepEqual(info.tensors, []);
  });

  it('reports overlapping tensors', () => {
    const info = parse(fixture('overlap.safetensors'));
    only(info, 'overlap');
    assert.equal(info.problems[0].tensor, 'y');
    assert.equal(info.problems[0].offset, info.dataOffset + 16);
    assert.deepEqual(info.tensors.map((x) => x.name), ['x', 'y']);
  });
});

describe('looksLikeSafetensors', () => {
  it('accepts padded and leading-space headers, rejects lookalikes', () => {
    const ok = build(header({ a: t('U8', [1], [0, 1]) }), 1);
    assert.equal(looksLikeSafetensors(ok, ok.length), true);
    const spaced = build('  {"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', 1);
    assert.equal(looksLikeSafetensors(spaced, spaced.length), true);
    assert.equal(looksLikeSafetensors(build('{}'), 16), true);
    assert.equal(looksLikeSafetensors(build('[1]'), 16), false);
    assert.equal(looksLikeSafetensors(build('{x}'), 16), false);
    assert.equal(looksLikeSafetensors(new Uint8Array(4), 4), false);
    // an .npy whose header-length byte happens to be '{'
    const npy = new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0x7b, 0, 0x7b, 0x27]);
    assert.equal(looksLikeSafetensors(npy, 200), false);
    // declared length huge but followed by an object: still safetensors-shaped
    assert.equal(looksLikeSafetensors(build('{"a":1}', 0, { length: 1n << 40n }), 24), true);
    // whole header in view but it does not close the object
    assert.equal(looksLikeSafetensors(build('{"a":1', 0, { pad: false }), 14), false);
  });
});

describe('safetensors header length', () => {
  for (const [label, length] of [
    ['2^62', 1n << 62n],
    ['2^32', 1n << 32n],
    ['2^64-1', (1n << 64n) - 1n],
    ['one past the file', 17n],
  ] as const) {
    it(`reports ${label} without allocating it`, () => {
      const bytes = build('{}', 0, { length });
      const spy = new SpySource(new BufferSource(bytes));
      const info = parseSafetensors(spy, LIMITS);
      only(info, 'header-length');
      assert.ok(spy.maxRead <= 8, `read ${spy.maxRead} bytes`);
    });
  }

  it('honours the caller limit', () => {
    const bytes = build(header({ a: t('U8', [1], [0, 1]) }), 1);
    only(parse(bytes, { maxHeaderBytes: 16 }), 'header-length');
    assert.deepEqual(parse(bytes).problems, []);
  });

  it('reports files shorter than 8 bytes', () => {
    only(parse(new Uint8Array(5)), 'header-length');
    only(parse(new Uint8Array(0)), 'header-length');
  });

  it('does not trust a source that claims more bytes than it has', () => {
    const bytes = build('{}');
    const liar = new SpySource(new BufferSource(bytes.subarray(0, 12)), bytes.length);
    only(parseSafetensors(liar, LIMITS), 'header-length');
  });
});

describe('safetensors header text', () => {
  it('reports invalid UTF-8 with its offset', () => {
    for (const bad of [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]]) {
      const h = new Uint8Array([...enc.encode('{"a'), ...bad, ...enc.encode('":1}')]);
      const info = parse(build(h));
      only(info, 'invalid-utf8');
      assert.equal(info.problems[0].offset, 8 + 3);
    }
    assert.deepEqual(parse(build(header({ 'é€😀': t('U8', [1], [0, 1]) }), 1)).problems, []);
  });

  it('reports non-object JSON', () => {
    for (const h of ['[1,2]', '"x"', 'null', '3', 'true']) only(parse(build(h)), 'header-not-object');
  });

  it('reports invalid JSON', () => {
    for (const h of [
      '',
      '{"a":}',
      '{"a":1,}',
      "{'a':1}",
      '{"a":NaN}',
      '{"a":01}',
      '{"a":"\\ud800"}',
      '{"a":"x\ty"}',
      '{"a":"\\q"}',
      '{"a" 1}',
      '{"a":1',
      '{"a":[1,2}',
      '{"a":tru}',
      '[1,2] x',
    ]) {
      const info = parse(build(h, 0, { pad: false }));
      only(info, 'header-json');
      assert.equal(info.tensors.length, 0);
    }
  });

  it('rejects nesting deeper than the reference reader without overflowing the stack', () => {
    const deep = (n: number) => `{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":${'['.repeat(n)}${']'.repeat(n)}}}`;
    assert.deepEqual(parse(build(deep(100), 1)).problems, []);
    only(parse(build(deep(200), 1)), 'header-json');
    only(parse(build(deep(10_000), 1)), 'header-json');
    only(parse(build('{"a":' + '['.repeat(100_000))), 'header-json');
  });

  it('accepts space padding and reports any other trailing bytes', () => {
    const h = header({ a: t('U8', [1], [0, 1]) });
    assert.deepEqual(parse(build(h + '       ', 1, { pad: false })).problems, []);
    for (const tail of ['\n', '\t  ', '\0\0\0', 'x', ' {}']) {
      const info = parse(build(h + tail, 1, { pad: false }));
      only(info, 'header-padding');
      assert.equal(info.problems[0].offset, 8 + h.length);
      assert.equal(info.tensors.length, 1);
    }
  });

  it('reports duplicate keys, including escaped spellings and repeated fields', () => {
    const entry = '{"dtype":"U8","shape":[1],"data_offsets":[0,1]}';
    let info = parse(build(`{"w":${entry},"w":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}`, 2));
    only(info, 'duplicate-key');
    assert.equal(info.problems[0].tensor, 'w');
    assert.deepEqual(info.tensors.map((x) => x.shape), [[2]], 'the last value wins, as in JSON.parse');
    info = parse(build(`{"w":${entry},"\\u0077":${entry}}`, 1));
    only(info, 'duplicate-key');
    info = parse(build('{"w":{"dtype":"U8","dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 4));
    only(info, 'duplicate-key');
    assert.equal(info.problems[0].tensor, 'w');
    info = parse(build(`{"__metadata__":{"a":"1","a":"2"},"w":${entry}}`, 1));
    only(info, 'duplicate-key');
    assert.deepEqual({ ...info.metadata }, { a: '2' });
    info = parse(build(`{"__metadata__":{"a":"1"},"__metadata__":{"b":"2"}}`));
    only(info, 'duplicate-key');
    assert.deepEqual({ ...info.metadata }, { b: '2' });
  });
});

describe('safetensors metadata', () => {
  it('accepts string values and null, reports everything else', () => {
    assert.deepEqual(parse(build('{"__metadata__":null}')).problems, []);
    assert.equal(parse(build('{"__metadata__":null}')).metadata, null);
    let info = parse(build('{"__metadata__":{"a":"x","b":1,"c":{"d":"e"},"e":null}}'));
    assert.deepEqual(kinds(info), ['metadata-type', 'metadata-type', 'metadata-type']);
    assert.deepEqual({ ...info.metadata }, { a: 'x' });
    info = parse(build('{"__metadata__":["a"]}'));
    only(info, 'metadata-type');
    assert.equal(info.metadata, null);
  });

  it('keeps keys such as __proto__ as plain data', () => {
    const info = parse(build('{"__metadata__":{"__proto__":"x","constructor":"y"}}'));
    assert.deepEqual(info.problems, []);
    assert.equal(info.metadata!['__proto__'], 'x');
    assert.equal(Object.getPrototypeOf(info.metadata), null);
  });
});

describe('safetensors tensor entries', () => {
  it('reports unknown, missing and non-string dtypes', () => {
    for (const dtype of ['F128', 'f32', '', 5, null]) {
      const info = parse(build(header({ a: t(dtype, [1], [0, 4]) }), 4));
      only(info, 'bad-dtype');
      assert.equal(info.problems[0].tensor, 'a');
      assert.equal(info.tensors.length, 0);
    }
    only(parse(build('{"a":{"shape":[1],"data_offsets":[0,4]}}', 4)), 'bad-dtype');
  });

  it('knows every reference dtype and the sub-byte ones', () => {
    const sizes: Record<string, [number[], number]> = {
      F64: [[2], 16], F32: [[2], 8], F16: [[2], 4], BF16: [[2], 4], I64: [[1], 8], I32: [[1], 4], I16: [[1], 2], I8: [[1], 1],
      U64: [[1], 8], U32: [[1], 4], U16: [[1], 2], U8: [[1], 1], BOOL: [[3], 3], F8_E4M3: [[1], 1], F8_E5M2: [[1], 1],
      F8_E8M0: [[1], 1], F4: [[4], 2], F6_E2M3: [[4], 3], F6_E3M2: [[4], 3], C64: [[1], 8], U4: [[2, 2], 2], I2: [[4], 1],
      U1: [[16], 2], U3: [[8], 3], I7: [[8], 7],
    };
    for (const [dtype, [shape, bytes]] of Object.entries(sizes)) {
      const info = parse(build(header({ a: t(dtype, shape, [0, bytes]) }), bytes));
      assert.deepEqual(info.problems, [], dtype);
    }
  });

  it('reports sub-byte tensors that are not a whole number of bytes', () => {
    only(parse(build(header({ a: t('F4', [3], [0, 2]) }), 2)), 'size-mismatch');
    only(parse(build(header({ a: t('F6_E2M3', [1], [0, 1]) }), 1)), 'size-mismatch');
  });

  it('reports bad shapes', () => {
    for (const shape of [[-1], [1.5], ['2'], [null], [[2]], 'x', 3, {}, [2 ** 53], [2 ** 64]]) {
      const info = parse(build(header({ a: t('U8', shape, [0, 1]) }), 1));
      only(info, 'bad-shape');
    }
    // exact integer text matters: JSON.parse would read 1.0 and 1e0 as 1
    only(parse(build('{"a":{"dtype":"U8","shape":[1.0],"data_offsets":[0,1]}}', 1)), 'bad-shape');
    only(parse(build('{"a":{"dtype":"U8","shape":[1e0],"data_offsets":[0,1]}}', 1)), 'bad-shape');
    only(parse(build('{"a":{"dtype":"U8","shape":[-0],"data_offsets":[0,0]}}')), 'bad-shape');
    only(parse(build('{"a":{"dtype":"U8","data_offsets":[0,1]}}', 1)), 'bad-shape');
  });

  it('reports a shape whose byte size overflows, without losing precision or crashing', () => {
    const info = parse(build(header({ a: t('F32', [2 ** 40, 2 ** 40], [0, 4]) }), 4));
    only(info, 'bad-shape');
    assert.match(info.problems[0].detail, /4835703278458516698824704 bytes/);
    const big = parse(build(header({ a: t('F64', [2 ** 26, 2 ** 25], [0, 2 ** 54]) })));
    assert.deepEqual(kinds(big), ['bad-offsets', 'bad-shape']);
    const many = parse(build(`{"a":{"dtype":"U8","shape":[${Array(50_000).fill('9007199254740991').join(',')}],"data_offsets":[0,1]}}`, 1));
    only(many, 'bad-shape');
    // a zero dimension makes the tensor empty no matter what else is declared
    assert.deepEqual(parse(build(header({ a: t('F32', [0, 2 ** 50, 2 ** 50], [0, 0]) }))).problems, []);
    assert.deepEqual(parse(build(header({ a: t('F32', [], [0, 4]) }), 4)).problems, []);
  });

  it('reports bad offsets', () => {
    for (const offsets of [[4, 0], [0], [0, 1, 2], [-1, 4], [0, 4.5], [0, '4'], 'x', null, [0, 2 ** 53]]) {
      const info = parse(build(header({ a: t('U8', [4], offsets) }), 4));
      assert.equal(info.problems[0].kind, 'bad-offsets', JSON.stringify([offsets, info.problems]));
      assert.equal(info.tensors.length, 0);
    }
    only(parse(build('{"a":{"dtype":"U8","shape":[0]}}')), 'bad-offsets');
  });

  it('reports a byte span that does not match shape x dtype', () => {
    const info = parse(build(header({ a: t('F32', [2, 2], [0, 8]) }), 8));
    only(info, 'size-mismatch');
    assert.equal(info.tensors.length, 1, 'the tensor is still listed so its bytes can be located');
  });

  it('reports a tensor entry that is not an object', () => {
    const info = parse(build('{"a":[1,2],"b":"x"}'));
    assert.deepEqual(kinds(info), ['header-json', 'header-json']);
    assert.deepEqual(info.problems.map((p) => p.tensor), ['a', 'b']);
  });

  it('points tensor problems at the tensor key in the file', () => {
    const h = header({ ok: t('U8', [1], [0, 1]), bad: t('X', [1], [1, 2]) });
    const info = parse(build(h, 2));
    only(info, 'bad-dtype');
    assert.equal(info.problems[0].offset, 8 + h.indexOf('"bad"'));
  });

  it('ignores unknown fields, as the reference reader does', () => {
    assert.deepEqual(parse(build('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"extra":{"x":[1,2,{"y":null}]}}}', 1)).problems, []);
  });
});

describe('safetensors data layout', () => {
  it('lists tensors in data order regardless of header order', () => {
    const info = parse(build(header({ b: t('U8', [2], [2, 4]), a: t('U8', [2], [0, 2]) }), 4));
    assert.deepEqual(info.problems, []);
    assert.deepEqual(info.tensors.map((x) => x.name), ['a', 'b']);
  });

  it('reports overlap', () => {
    const info = parse(build(header({ a: t('U8', [4], [0, 4]), b: t('U8', [4], [2, 6]) }), 6));
    only(info, 'overlap');
    assert.equal(info.problems[0].tensor, 'b');
  });

  it('reports two tensors sharing bytes (aliasing)', () => {
    only(parse(build(header({ a: t('U8', [4], [0, 4]), b: t('U8', [4], [0, 4]) }), 4)), 'overlap');
  });

  it('reports a gap', () => {
    const info = parse(build(header({ a: t('U8', [4], [0, 4]), b: t('U8', [4], [8, 12]) }), 12));
    only(info, 'gap');
    assert.equal(info.problems[0].offset, info.dataOffset + 4);
    only(parse(build(header({ a: t('U8', [4], [4, 8]) }), 8)), 'gap');
  });

  it('reports trailing bytes after the last tensor', () => {
    const info = parse(build(header({ a: t('U8', [4], [0, 4]) }), 10));
    only(info, 'trailing-bytes');
    assert.equal(info.problems[0].offset, info.dataOffset + 4);
    only(parse(build('{}', 3)), 'trailing-bytes');
    assert.deepEqual(parse(build('{}')).problems, []);
  });

  it('reports tensors that end past the data section', () => {
    const info = parse(build(header({ a: t('U8', [4], [0, 4]), b: t('U8', [1000], [4, 1004]) }), 6));
    only(info, 'data-out-of-bounds');
    assert.equal(info.problems[0].tensor, 'b');
  });

  it('caps the problem list and says how many were left out', () => {
    const entries = Array.from({ length: 2000 }, (_, i) => `"t${i}":{"dtype":"NOPE","shape":[1],"data_offsets":[${i},${i + 1}]}`);
    const info = parse(build(`{${entries.join(',')}}`, 2000));
    assert.equal(info.problems.length, 1001);
    assert.match(info.problems[1000].detail, /1000 more problems/);
  });

  it('bounds the number of header entries', () => {
    const entries = Array.from({ length: 101 }, (_, i) => `"t${i}":{}`);
    assert.throws(() => parseSafetensors(new BufferSource(build(`{${entries.join(',')}}`)), { ...LIMITS, maxTensors: 100 }), LimitError);
    assert.equal(parseSafetensors(new BufferSource(build(`{${entries.slice(1).join(',')}}`)), { ...LIMITS, maxTensors: 100 }).problems.length, 300);
  });

  it('handles many tensors quickly', () => {
    const entries = Array.from({ length: 50_000 }, (_, i) => `"layer.${i}.weight":{"dtype":"F16","shape":[2,2],"data_offsets":[${i * 8},${i * 8 + 8}]}`);
    const bytes = build(`{"__metadata__":{"format":"pt"},${entries.join(',')}}`, 400_000);
    const t0 = performance.now();
    const info = parse(bytes);
    assert.ok(performance.now() - t0 < 2000);
    assert.deepEqual(info.problems, []);
    assert.equal(info.tensors.length, 50_000);
  });
});

describe('safetensors fuzz', () => {
  it('only ever reports problems (or throws FormatError/LimitError), quickly', () => {
    const baseHeader = enc.encode(
      header({
        __metadata__: { format: 'pt', note: 'é' },
        'model.w': t('F32', [2, 3], [0, 24]),
        'model.b': t('F4', [4], [24, 26]),
        'model.e': t('BF16', [0], [26, 26]),
      }),
    );
    const base = build(baseHeader, 26);
    assert.deepEqual(parse(base).problems, []);
    const rng = lcg(0x5afe7e45);
    const tokens = ['{', '}', '[', ']', '"', '\\', ',', ':', '-', '1e9', '9999999999999999999999', '\\u0000', 'null', '\xff', ' '];
    const slow: number[] = [];
    for (let round = 0; round < 500; round++) {
      // Even rounds mutate the header text and keep the length field honest, to reach the JSON and
      // layout checks; odd rounds mutate the whole file, length field included.
      const bytes = round % 2 === 0 ? build(mutate(baseHeader, rng, tokens), 26, { pad: false }) : mutate(base, rng, tokens);
      const t0 = performance.now();
      try {
        const info = parse(bytes);
        assert.ok(Array.isArray(info.problems));
        for (const p of info.problems) assert.equal(typeof p.offset, 'number');
      } catch (e) {
        assert.ok(e instanceof FormatError || e instanceof LimitError, `round ${round}: ${String(e)}`);
      }
      const ms = performance.now() - t0;
      if (ms > 100) slow.push(round);
    }
    assert.deepEqual(slow, [], 'every call should take well under 100 ms');
  });
});

// --- fuzz helpers (shared shape with numpy.test.ts) ---


function mutate(base: Uint8Array, rng: () => number, tokens: string[]): Uint8Array {
  let b: Uint8Array = Uint8Array.from(base);
  const pick = (n: number) => Math.floor(rng() * n);
  const steps = 1 + pick(4);
  for (let s = 0; s < steps; s++) {
    const at = pick(b.length + 1);
    switch (pick(7)) {
      case 0: // flip one byte
        if (b.length) b[Math.min(at, b.length - 1)] = pick(256);
        break;
      case 1: { // insert a token
        const tok = Uint8Array.from(tokens[pick(tokens.length)], (c) => c.charCodeAt(0) & 0xff);
        b = concat(b.subarray(0, at), tok, b.subarray(at));
        break;
      }
      case 2: // delete a range
        b = concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + pick(8))));
        break;
      case 3: // truncate
        b = b.subarray(0, at);
        break;
      case 4: { // rewrite a length-field byte
        if (b.length >= 8) b[pick(8)] = pick(256);
        break;
      }
      case 5: { // duplicate a slice
        const len = pick(32);
        b = concat(b.subarray(0, at), b.subarray(at, at + len), b.subarray(at));
        break;
      }
      default: // swap in a random digit run
        b = concat(b.subarray(0, at), Uint8Array.from({ length: 1 + pick(20) }, () => 0x30 + pick(10)), b.subarray(at));
    }
  }
  return b;
}

