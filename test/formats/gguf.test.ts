// The GGUF header parser: the fixtures of test/fixtures/gguf (make_gguf.py; their layout was checked
// against gguf-py's GGUFReader when they were made), byte-order and version variants, every hostile file,
// bounds (only the header region is read) and a seeded mutation fuzz.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { FormatError, LimitError } from '../../src/formats/errors.ts';
import { BufferSource, type ByteSource } from '../../src/formats/source.ts';
import { parseGguf, type GgufInfo } from '../../src/formats/gguf/index.ts';
import { lcg } from '../helpers/random.ts';
import { GT, gguf, modelKvs } from '../helpers/gguf-bytes.ts';

const DIR = new URL('../fixtures/gguf/', import.meta.url);
const bytes = (p: string) => new Uint8Array(readFileSync(new URL(p, DIR)));
const parse = (b: Uint8Array, opts = {}) => parseGguf(new BufferSource(b), opts);
const value = (info: GgufInfo, key: string) => info.kvs.find((k) => k.key === key)?.value;
const kinds = (info: GgufInfo) => info.problems.map((p) => p.kind);

describe('GGUF parser: valid files', () => {
  it('reads a v3 file: metadata, arrays, tensor infos, data offset', () => {
    const info = parse(bytes('real/chujiezheng-chatml.gguf'));
    assert.equal(info.error, null);
    assert.equal(info.version, 3);
    assert.equal(info.littleEndian, true);
    assert.equal(info.kvs.length, 15);
    assert.equal(value(info, 'general.architecture'), 'llama');
    assert.equal(value(info, 'llama.rope.freq_base'), 10000);
    assert.equal(value(info, 'tokenizer.ggml.add_bos_token'), true);
    assert.deepEqual(value(info, 'tokenizer.ggml.tokens'), { type: GT.STRING, count: 16, depth: 0 });
    assert.equal(value(info, 'tokenizer.chat_template'), readFileSync(new URL('../corpus/chat-templates/chujiezheng-chatml.jinja', DIR), 'utf8'));
    assert.equal(info.tensors.length, 1);
    assert.deepEqual(info.tensors[0].dims, [8n, 16n]);
    assert.equal(info.tensors[0].nbytes, 512n);
    assert.equal(info.dataOffset, 1568); // as gguf-py's GGUFReader reports it
    assert.deepEqual(info.problems, []);
  });

  it('reads every real-template fixture without problems', () => {
    for (const name of readdirSync(new URL('real/', DIR))) {
      const info = parse(bytes(`real/${name}`));
      assert.equal(info.error, null, name);
      assert.deepEqual(info.problems, [], name);
      assert.equal(typeof value(info, 'tokenizer.chat_template'), 'string', name);
    }
  });

  it('v1 (u32 lengths and dims), v2 and big-endian v3 carry the same metadata as v3', () => {
    const ref = parse(bytes('real/chujiezheng-chatml.gguf'));
    const norm = (i: GgufInfo) => ({ kvs: i.kvs.filter((k) => k.key !== 'general.name').map((k) => [k.key, k.type, k.value]), tensors: i.tensors.map((t) => [t.name, t.dims, t.type, t.offset, t.nbytes]) });
    for (const [file, version, le] of [['variants/v1.gguf', 1, true], ['variants/v2.gguf', 2, true], ['variants/big_endian_v3.gguf', 3, false]] as const) {
      const info = parse(bytes(file));
      assert.equal(info.error, null, file);
      assert.equal(info.version, version);
      assert.equal(info.littleEndian, le);
      assert.deepEqual(info.problems, [], file);
      assert.deepEqual(norm(info), norm(ref), file);
    }
  });

  it('computes quantized tensor sizes from ggml block sizes', () => {
    const info = parse(bytes('variants/quantized.gguf'));
    assert.equal(info.error, null);
    assert.deepEqual(info.problems, []);
    // Q4_K [256,4], Q8_0 [64,8], Q4_0 [32,3], F32 [8], F16 [8,16], BF16 [16,2] (gguf-py agrees on each)
    assert.deepEqual(info.tensors.map((t) => t.nbytes), [576n, 544n, 54n, 32n, 256n, 64n]);
  });

  it('honours general.alignment', () => {
    const info = parse(bytes('variants/alignment_64.gguf'));
    assert.equal(info.alignment, 64);
    assert.equal((info.dataOffset ?? 1) % 64, 0);
    assert.deepEqual(info.problems, []);
  });

  it('reads a vocabulary-only file (no tensors) and named templates', () => {
    assert.deepEqual(parse(bytes('variants/vocab_only.gguf')).problems, []);
    const named = parse(bytes('variants/named_templates.gguf'));
    assert.equal(typeof value(named, 'tokenizer.chat_template.tool_use'), 'string');
    assert.deepEqual(value(named, 'tokenizer.chat_templates'), { type: GT.STRING, count: 1, depth: 0 });
  });

  it('reads only the header region of a large file, never the tensor data', () => {
    const big = gguf(modelKvs('{{ x }}'), [{ name: 'w', dims: [4096, 4096] }]); // 64 MiB of data
    let read = 0;
    const inner = new BufferSource(big);
    const src: ByteSource = { size: inner.size, read: (o, n) => ((read += Math.min(n, Math.max(0, inner.size - o))), inner.read(o, n)) };
    const info = parseGguf(src);
    assert.equal(info.error, null);
    assert.equal(info.tensors[0].nbytes, 64n << 20n);
    assert.ok(read <= (1 << 20) + 4096, `read ${read} bytes`);
  });
});

describe('GGUF parser: hostile files stop with a FormatError, quickly, keeping what came before', () => {
  const expect: Record<string, string> = {
    'array_2p40_elements.gguf': 'array-count',
    'array_u64_2p61_elements.gguf': 'array-count',
    'bad_value_type.gguf': 'value-type',
    'bad_version.gguf': 'version',
    'dims_9.gguf': 'dims',
    'kv_count_2p40.gguf': 'count',
    'nested_arrays_depth_8.gguf': 'array-depth',
    'ssti_then_truncated.gguf': 'string-length',
    'string_len_2p60.gguf': 'string-length',
    'tensor_count_2p40.gguf': 'count',
    'truncated_header.gguf': 'truncated',
    'truncated_in_metadata.gguf': 'string-length',
    'value_len_2p60.gguf': 'string-length',
    'version_0.gguf': 'version',
  };
  it('covers every file in hostile/', () => assert.deepEqual(readdirSync(new URL('hostile/', DIR)).sort(), Object.keys(expect).sort()));
  for (const [file, code] of Object.entries(expect)) {
    it(`${file} → ${code}`, () => {
      const t0 = performance.now();
      const info = parse(bytes(`hostile/${file}`));
      assert.ok(info.error instanceof FormatError, String(info.error));
      assert.equal((info.error as FormatError).code, code, info.error?.message);
      assert.ok(performance.now() - t0 < 200);
    });
  }
  it('keeps the metadata read before the break', () => {
    const info = parse(bytes('hostile/ssti_then_truncated.gguf'));
    assert.match(String(value(info, 'tokenizer.chat_template')), /cycler\.__init__/);
    assert.equal(info.headerEnd, null);
  });
  it('a file shorter than the fixed header, or without the magic', () => {
    assert.equal((parse(new TextEncoder().encode('GGUF')).error as FormatError).code, 'truncated');
    assert.equal((parse(new TextEncoder().encode('GGML\x03\0\0\0')).error as FormatError).code, 'magic');
  });
  it('counts within the bytes but over the configured bound are a LimitError', () => {
    const info = parse(bytes('real/chujiezheng-chatml.gguf'), { maxCount: 10 });
    assert.ok(info.error instanceof LimitError);
  });
  it('a header region over the configured bound is a LimitError', () => {
    const info = parse(bytes('real/chujiezheng-chatml.gguf'), { maxHeaderBytes: 600 });
    assert.ok(info.error instanceof LimitError);
    assert.equal(value(info, 'general.architecture'), 'llama');
  });
  it('nested arrays within the depth bound are read and reported', () => {
    const info = parse(gguf([{ key: 'x', type: GT.ARRAY, value: { array: GT.ARRAY, items: [{ array: GT.U8, items: [1, 2] }, { array: GT.U8, items: [] }] } }]));
    assert.equal(info.error, null);
    assert.deepEqual(value(info, 'x'), { type: GT.ARRAY, count: 2, depth: 1 });
    assert.deepEqual(kinds(info), ['nested-array']);
  });
});

describe('GGUF parser: anomalies', () => {
  it('tensor data past the end of the file', () => assert.deepEqual(kinds(parse(bytes('anomalies/tensor_out_of_bounds.gguf'))), ['out-of-bounds']));
  it('misaligned, overlapping and removed-type tensors', () => {
    assert.deepEqual(kinds(parse(bytes('anomalies/layout_anomalies.gguf'))).sort(), ['misaligned', 'misaligned', 'overlap', 'overlap', 'unknown-tensor-type']);
  });
  it('bytes after the last tensor', () => assert.deepEqual(kinds(parse(bytes('anomalies/trailing_bytes.gguf'))), ['trailing-bytes']));
  it('duplicate keys', () => assert.deepEqual(kinds(parse(bytes('anomalies/duplicate_template_key.gguf'))), ['duplicate-key']));
  it('bad alignment, too many dims, long and duplicate tensor names, first dimension not a whole block', () => {
    const base = gguf([{ key: 'general.alignment', type: GT.U32, value: 24 }], [{ name: 'a'.repeat(70), dims: [2, 1, 1, 1, 1] }, { name: 'a'.repeat(70), dims: [4] }]);
    assert.deepEqual(kinds(parse(base)).sort(), ['bad-alignment', 'duplicate-tensor', 'name-too-long', 'name-too-long', 'too-many-dims']);
  });
});

describe('GGUF parser: seeded fuzz', () => {
  it('mutated and truncated files return a result (never throw, never hang)', () => {
    const seeds = [bytes('real/chujiezheng-qwen2.5-instruct.gguf'), bytes('variants/quantized.gguf'), bytes('variants/v1.gguf'), bytes('variants/big_endian_v3.gguf')];
    const rnd = lcg(0x9a7f);
    const t0 = performance.now();
    for (let i = 0; i < 3000; i++) {
      const seed = seeds[i % seeds.length];
      const b = Uint8Array.from(seed.subarray(0, rnd() < 0.2 ? Math.floor(rnd() * seed.length) : seed.length));
      for (let m = 1 + Math.floor(rnd() * 4); m > 0 && b.length > 8; m--) {
        const at = 4 + Math.floor(rnd() * (Math.min(b.length, 600) - 4));
        b[at] = rnd() < 0.5 ? Math.floor(rnd() * 256) : [0xff, 0x00, 0x7f, 0x80][Math.floor(rnd() * 4)];
      }
      const info = parse(b);
      assert.ok(info.error === null || info.error instanceof FormatError || info.error instanceof LimitError);
    }
    assert.ok(performance.now() - t0 < 20_000);
  });
});
