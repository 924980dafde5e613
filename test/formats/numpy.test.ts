// Fixtures in test/fixtures/formats/*.npy are copies of the shared corpus samples (weights: 4x4 float64;
// records: structured [('k','<u2'),('v','<f4')]; object_array: '|O' array whose data is a pickle).
// Every hostile case below is built in code.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { FormatError, LimitError } from '../../src/formats/errors.ts';
import { looksLikeNpy, parseNpyHeader, type NpyHeader } from '../../src/formats/numpy/index.ts';
import { BufferSource } from '../../src/formats/source.ts';
import { lcg, concat } from '../helpers/random.ts';

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../fixtures/formats/${name}`, import.meta.url)));
const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

/** An .npy file as numpy writes it: magic, version, length, dict literal padded to 64 with '\n'. */
function npy(dict: string, opts: { version?: 1 | 2 | 3; data?: Uint8Array; length?: number; raw?: boolean } = {}): Uint8Array {
  const version = opts.version ?? 1;
  let h = version === 3 ? new TextEncoder().encode(dict) : latin1(dict);
  const prefix = version === 1 ? 10 : 12;
  if (!opts.raw) {
    const total = Math.ceil((prefix + h.length + 1) / 64) * 64;
    const padded = new Uint8Array(total - prefix).fill(0x20);
    padded.set(h);
    padded[padded.length - 1] = 0x0a;
    h = padded;
  }
  const data = opts.data ?? new Uint8Array(0);
  const out = new Uint8Array(prefix + h.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, opts.length ?? h.length, true);
  else dv.setUint32(8, opts.length ?? h.length, true);
  out.set(h, prefix);
  out.set(data, prefix + h.length);
  return out;
}

const header = (descr: string, shape = '(3, 4)', fortran = 'False') => `{'descr': ${descr}, 'fortran_order': ${fortran}, 'shape': ${shape}, }`;
const parse = (bytes: Uint8Array): NpyHeader => parseNpyHeader(new BufferSource(bytes));
const parseText = (dict: string) => parse(npy(dict));
function rejects(bytes: Uint8Array, code?: string): void {
  assert.throws(() => parse(bytes), (e: unknown) => e instanceof FormatError && (code === undefined || e.code === code));
}

describe('npy fixtures', () => {
  it('parses a float64 array', () => {
    const bytes = fixture('weights.npy');
    assert.equal(looksLikeNpy(bytes), true);
    const h = parse(bytes);
    assert.deepEqual(h, {
      version: [1, 0],
      headerLength: 118,
      dataOffset: 128,
      descr: '<f8',
      fortranOrder: false,
      shape: [4, 4],
      hasObjects: false,
      itemsize: 8,
      dataBytes: 128,
    });
    assert.equal(h.dataOffset + h.dataBytes!, bytes.length);
  });

  it('parses a structured array', () => {
    const bytes = fixture('records.npy');
    const h = parse(bytes);
    assert.deepEqual(h.descr, [['k', '<u2'], ['v', '<f4']]);
    assert.equal(h.itemsize, 6);
    assert.equal(h.hasObjects, false);
    assert.equal(h.dataOffset + h.dataBytes!, bytes.length);
  });

  it('reports an object array and where its pickle starts', () => {
    const bytes = fixture('object_array.npy');
    const h = parse(bytes);
    assert.equal(h.descr, '|O');
    assert.equal(h.hasObjects, true);
    assert.deepEqual(h.shape, [2]);
    assert.equal(h.dataOffset, 128);
    assert.equal(bytes[h.dataOffset], 0x80, 'the data section is a pickle stream (PROTO opcode)');
  });
});

describe('looksLikeNpy', () => {
  it('checks the magic only', () => {
    assert.equal(looksLikeNpy(latin1('\x93NUMPY')), true);
    assert.equal(looksLikeNpy(latin1('\x93NUMP')), false);
    assert.equal(looksLikeNpy(latin1('PK\x03\x04')), false);
    assert.equal(looksLikeNpy(new Uint8Array(0)), false);
  });
});

describe('npy versions', () => {
  it('reads v1, v2 and v3 headers', () => {
    for (const version of [1, 2, 3] as const) {
      const bytes = npy(header("'<f4'"), { version, data: new Uint8Array(48) });
      const h = parse(bytes);
      assert.deepEqual(h.version, [version, 0]);
      assert.equal(h.dataOffset % 64, 0);
      assert.equal(h.dataOffset, (version === 1 ? 10 : 12) + h.headerLength);
      assert.equal(h.dataBytes, 48);
    }
  });

  it('reads a v2 header longer than 64 KiB', () => {
    const fields = Array.from({ length: 5000 }, (_, i) => `('field_${i}', '<i4')`).join(', ');
    const h = parse(npy(header(`[${fields}]`, '(1,)'), { version: 2 }));
    assert.ok(h.headerLength > 65535);
    assert.equal(h.itemsize, 20000);
  });

  it('decodes v3 headers as UTF-8 and v1 as latin-1', () => {
    const h3 = parse(npy(header("[('température', '<f4')]"), { version: 3 }));
    assert.deepEqual(h3.descr, [['température', '<f4']]);
    const h1 = parse(npy(header("[('\xe9', '<f4')]"), { version: 1 }));
    assert.deepEqual(h1.descr, [['é', '<f4']]);
    const bad = npy(header("'<f4'"), { version: 3 });
    bad[12 + 3] = 0xff;
    rejects(bad, 'NPY_HEADER');
  });

  it('rejects unknown versions', () => {
    const bytes = npy(header("'<f4'"));
    bytes[6] = 4;
    rejects(bytes, 'NPY_VERSION');
    bytes[6] = 1;
    bytes[7] = 1;
    rejects(bytes, 'NPY_VERSION');
  });
});

describe('npy descr', () => {
  const facts = (descr: string, shape = '(2,)') => {
    const h = parseText(header(descr, shape));
    return { itemsize: h.itemsize, hasObjects: h.hasObjects, dataBytes: h.dataBytes };
  };

  it('sizes simple typestrs', () => {
    const cases: Record<string, number> = {
      "'<f4'": 4, "'>f8'": 8, "'<f2'": 2, "'<f16'": 16, "'|b1'": 1, "'|i1'": 1, "'<i8'": 8, "'|u1'": 1, "'<u4'": 4,
      "'<c8'": 8, "'<c16'": 16, "'|S10'": 10, "'|S0'": 0, "'<U5'": 20, "'|V8'": 8, "'<M8[ns]'": 8, "'<m8[25s]'": 8,
      "'<M8'": 8, '"<f4"': 4, "u'<f4'": 4, "b'<f4'": 4, "'<' 'f4'": 4,
    };
    for (const [descr, size] of Object.entries(cases)) {
      assert.deepEqual(facts(descr), { itemsize: size, hasObjects: false, dataBytes: 2 * size }, descr);
    }
  });

  it('flags object dtypes however they are spelled', () => {
    for (const descr of ["'|O'", "'O'", "'<O8'", "'object'", "'(2,)O'", "'i4,O'", "[('a', '<i4'), ('b', '|O')]", "[('o', '|O', (3,))]",
      "[('outer', [('inner', [('deep', '|O')])])]", "('|O', (2,))", "('<i8', '|O')", "[(('title', 'name'), '|O')]",
      "[('a', '<i4'), 'bO']", "[('a', '<f4', 'O')]"]) {
      assert.equal(facts(descr).hasObjects, true, descr);
    }
    assert.equal(facts("[('Offset', '<i4')]").hasObjects, false, 'a field name is not a type');
  });

  it('sizes structured, nested and sub-array dtypes', () => {
    assert.deepEqual(facts("[('a', '<i4'), ('b', [('c', '<f8'), ('d', '|S3')])]"), { itemsize: 15, hasObjects: false, dataBytes: 30 });
    assert.deepEqual(facts("[('x', '<f4', (2, 3)), ('y', '|u1')]"), { itemsize: 25, hasObjects: false, dataBytes: 50 });
    assert.deepEqual(facts("[('a', '<i4'), ('', '|V4'), ('b', '<f8')]"), { itemsize: 16, hasObjects: false, dataBytes: 32 });
    assert.deepEqual(facts("('<i4', (2, 2))"), { itemsize: 16, hasObjects: false, dataBytes: 32 });
    assert.deepEqual(facts("('<i4', (2, 2), 'ignored')"), { itemsize: 16, hasObjects: false, dataBytes: 32 });
    assert.deepEqual(facts("[('a', '<f4', 3)]"), { itemsize: 12, hasObjects: false, dataBytes: 24 });
    assert.deepEqual(facts('[]'), { itemsize: 0, hasObjects: false, dataBytes: 0 });
  });

  it('returns null sizes for descrs it cannot size', () => {
    assert.deepEqual(facts("'float32'"), { itemsize: null, hasObjects: false, dataBytes: null });
    assert.deepEqual(facts("'<i3'"), { itemsize: null, hasObjects: false, dataBytes: null });
    assert.deepEqual(facts("[('a', 'float32'), ('b', '<i4')]"), { itemsize: null, hasObjects: false, dataBytes: null });
  });

  it('rejects descrs numpy cannot read', () => {
    for (const descr of ['3', 'None', "{'names': ['a']}", "[('a',)]", "[('a', '<f4', (2,), 1)]", "['<f4xx']", "[('a', '<f4', (-1,))]", "('<f4',)", "('<f4', (-1,))"]) {
      assert.throws(() => parseText(header(descr)), FormatError, descr);
    }
  });
});

describe('npy header literal', () => {
  it('accepts what numpy writes and what literal_eval reads', () => {
    assert.deepEqual(parseText("{'descr': '<f4', 'fortran_order': True, 'shape': ()}").shape, []);
    assert.equal(parseText("{'descr': '<f4', 'fortran_order': True, 'shape': ()}").dataBytes, 4);
    assert.equal(parseText("{'descr': '<f4', 'fortran_order': True, 'shape': ()}").fortranOrder, true);
    assert.deepEqual(parseText('{"descr": "<f4", "fortran_order": False, "shape": (1_000, 0x10)}').shape, [1000, 16]);
    assert.deepEqual(parseText("{'descr': '<f4',  # a comment\n 'fortran_order': False, \\\n 'shape': ((2),),}").shape, [2]);
    assert.deepEqual(parseText("{'descr': '\\x3cf4', 'fortran_order': False, 'shape': (+2,)}").descr, '<f4');
    assert.deepEqual(parseText("{'descr': r'<f4', 'fortran_order': False, 'shape': (2,)}").descr, '<f4');
    assert.deepEqual(parseText("{'descr': '''<f4''', 'fortran_order': False, 'shape': (2,)}").descr, '<f4');
  });

  it('keeps the last of duplicate keys, as Python does', () => {
    const h = parseText("{'descr': '|O', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}");
    assert.equal(h.descr, '<f4');
    assert.equal(h.hasObjects, false);
    const o = parseText("{'descr': '<f4', 'descr': '|O', 'fortran_order': False, 'shape': (2,)}");
    assert.equal(o.hasObjects, true);
  });

  it('rejects malformed dicts', () => {
    for (const dict of [
      "{'descr': '<f4', 'fortran_order': False}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': [2]}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2.0,)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (9007199254740992,)}",
      "{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)",
      "{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2 3)}",
      "{'descr': '<f4' 'fortran_order': False, 'shape': (2,)}",
      "{'descr': __import__('os').system('id'), 'fortran_order': False, 'shape': (2,)}",
      "{'descr': os.system, 'fortran_order': False, 'shape': (2,)}",
      "{'descr': f'<f4', 'fortran_order': False, 'shape': (2,)}",
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), ['x']: 1}",
      "{'descr', 'fortran_order', 'shape'}",
      "{1: '<f4', 'fortran_order': False, 'shape': (2,)}",
      "{'descr': '\\N{DIGIT ONE}', 'fortran_order': False, 'shape': (2,)}",
      "{'descr': b'<f4' '<f4', 'fortran_order': False, 'shape': (2,)}",
      "{'descr': 'a\nb', 'fortran_order': False, 'shape': (2,)}",
      "['descr', '<f4']",
      '',
      '   ',
    ]) {
      assert.throws(() => parseText(dict), FormatError, JSON.stringify(dict));
    }
  });

  it('rejects deep nesting with a FormatError, not a stack overflow', () => {
    for (const open of ['(', '[', '{']) {
      assert.throws(() => parseText(`{'descr': ${open.repeat(10_000)}`), (e: unknown) => e instanceof FormatError);
    }
    const shape = '('.repeat(10_000) + '1' + ')'.repeat(10_000);
    assert.throws(() => parseText(header("'<f4'", shape)), FormatError);
    // moderately nested structured dtypes are fine
    let descr = "'<f4'";
    for (let i = 0; i < 15; i++) descr = `[('f${i}', ${descr})]`;
    assert.equal(parseText(header(descr)).itemsize, 4);
  });

  it('bounds integer literals', () => {
    assert.throws(() => parseText(header("'<f4'", `(${'9'.repeat(5000)},)`)), FormatError);
  });
});

describe('npy sizes', () => {
  it('rejects a non-object array too large for any loader', () => {
    rejects(npy(header("'<f4'", '(1099511627776, 1099511627776)')), 'NPY_TOO_LARGE');
    const many = `(${Array(20_000).fill('9007199254740991').join(', ')},)`;
    const t0 = performance.now();
    rejects(npy(header("'<f8'", many), { version: 2 }), 'NPY_TOO_LARGE');
    assert.ok(performance.now() - t0 < 1000);
  });

  it('still locates the pickle of an object array with an absurd shape', () => {
    const h = parseText(header("'|O'", '(1099511627776, 1099511627776)'));
    assert.equal(h.hasObjects, true);
    assert.equal(h.dataBytes, null);
    assert.equal(h.dataOffset, 10 + h.headerLength);
    assert.equal(h.dataOffset % 64, 0);
    const negative = parseText(header("'|O'", '(-2, 3)'));
    assert.deepEqual(negative.shape, [-2, 3]);
    assert.equal(negative.dataBytes, null);
    rejects(npy(header("'<f4'", '(-2, 3)')), 'NPY_SHAPE');
  });

  it('reads bool dimensions as numpy does', () => {
    assert.deepEqual(parseText(header("'<f4'", '(True, 2)')).shape, [1, 2]);
  });

  it('treats a zero dimension as an empty array', () => {
    assert.equal(parseText(header("'<f8'", '(0, 9007199254740991, 9007199254740991)')).dataBytes, 0);
  });
});

describe('npy framing errors', () => {
  it('rejects bad magic and truncated files', () => {
    rejects(latin1('NUMPY\x01\x00'), 'NPY_MAGIC');
    rejects(latin1('\x93NUMPY'), 'NPY_TRUNCATED');
    rejects(latin1('\x93NUMPY\x01\x00\x76'), 'NPY_TRUNCATED');
    rejects(latin1('\x93NUMPY\x02\x00\x76\x00\x00'), 'NPY_TRUNCATED');
    const full = npy(header("'<f4'"));
    rejects(full.subarray(0, 40), 'NPY_TRUNCATED');
  });

  it('rejects a header length beyond the file', () => {
    rejects(npy(header("'<f4'"), { length: 1000 }), 'NPY_TRUNCATED');
    rejects(npy(header("'<f4'"), { version: 2, length: 0x10000 }), 'NPY_TRUNCATED');
    rejects(npy(header("'<f4'"), { version: 2, length: 0xffffffff }), 'NPY_TRUNCATED');
  });

  it('refuses to read a header beyond the limit', () => {
    const padded = header("'<f4'") + ' '.repeat(1 << 20);
    assert.throws(() => parse(npy(padded, { version: 2 })), LimitError);
    assert.throws(() => parse(npy(padded, { version: 3 })), LimitError);
    assert.equal(parse(npy(header("'<f4'") + ' '.repeat((1 << 20) - 200), { version: 2 })).dataBytes, 48);
  });

  it('rejects an empty header', () => {
    rejects(npy('', { raw: true }), 'NPY_HEADER');
  });
});

describe('npy fuzz', () => {
  it('throws only FormatError or LimitError, quickly', () => {
    const base = npy(header("[('a', '<i4'), ('b', [('c', '|O'), ('d', '<f8', (2, 3))]), ('e', '<U4')]", '(3, 4)'), { data: new Uint8Array(16) });
    parse(base);
    const rng = lcg(0x00c0ffee);
    const tokens = ['(', ')', '[', ']', '{', '}', "'", '"', '\\', ',', ':', '#', '-', '0x', '_', 'True', 'None', '\n', 'b', 'r', '\xff'];
    let thrown = 0;
    const slow: number[] = [];
    for (let round = 0; round < 500; round++) {
      const bytes = mutate(base, rng, tokens);
      const t0 = performance.now();
      try {
        const h = parse(bytes);
        assert.ok(h.dataOffset <= bytes.length);
      } catch (e) {
        thrown++;
        assert.ok(e instanceof FormatError || e instanceof LimitError, `round ${round}: ${String(e)}`);
      }
      if (performance.now() - t0 > 100) slow.push(round);
    }
    assert.deepEqual(slow, [], 'every call should take well under 100 ms');
    assert.ok(thrown > 0 && thrown < 500, `mutations should produce both results (thrown ${thrown})`);
  });
});

// --- fuzz helpers (same shape as in safetensors.test.ts) ---


function mutate(base: Uint8Array, rng: () => number, tokens: string[]): Uint8Array {
  let b: Uint8Array = Uint8Array.from(base);
  const pick = (n: number) => Math.floor(rng() * n);
  const steps = 1 + pick(3);
  for (let s = 0; s < steps; s++) {
    // Mostly hit the header (past the magic) so the literal parser gets exercised.
    const at = rng() < 0.9 ? 10 + pick(Math.max(1, Math.min(b.length, 120) - 10)) : pick(b.length + 1);
    switch (pick(6)) {
      case 0:
        if (b.length) b[Math.min(at, b.length - 1)] = pick(256);
        break;
      case 1: {
        const tok = latin1(tokens[pick(tokens.length)]);
        b = concat(b.subarray(0, at), tok, b.subarray(at, b.length - tok.length)); // keep the length honest
        break;
      }
      case 2:
        b = concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + pick(8))));
        break;
      case 3:
        b = b.subarray(0, at);
        break;
      case 4:
        if (b.length >= 12) b[6 + pick(6)] = pick(256);
        break;
      default:
        b = concat(b.subarray(0, at), Uint8Array.from({ length: 1 + pick(20) }, () => 0x30 + pick(10)), b.subarray(at));
    }
  }
  return b;
}

