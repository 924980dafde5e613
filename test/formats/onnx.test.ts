// ONNX ModelProto reader: the vendored schema stays in sync with onnx.proto, real files written by the onnx
// library decode to what onnx.helper put in them, payloads are never read, identification by content
// claims ONNX and nothing else, and hostile bytes end in FormatError/LimitError quickly.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { FormatError, LimitError } from '../../src/formats/errors.ts';
import { looksLikeOnnx, onnxGraphs, onnxTensors, readOnnx } from '../../src/formats/onnx/index.ts';
import { ONNX_SCHEMA_JSON } from '../../src/formats/onnx/schema.generated.ts';
import type { ProtoPayload } from '../../src/formats/protobuf/schema.ts';
import { BufferSource, type ByteSource } from '../../src/formats/source.ts';
import { concat, fb, fbLying, fv, varint } from '../helpers/protobuf.ts';
import { lcg } from '../helpers/random.ts';

const dir = new URL('../fixtures/graph/', import.meta.url);
const file = (p: string) => new Uint8Array(readFileSync(new URL(p, dir)));
const read = (b: Uint8Array) => readOnnx(new BufferSource(b));

class CountingSource implements ByteSource {
  bytesRead = 0;
  constructor(readonly bytes: Uint8Array) {}
  get size() {
    return this.bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    const out = this.bytes.slice(offset, Math.min(this.bytes.length, offset + length));
    this.bytesRead += out.length;
    return out;
  }
}

/** Subgraphs nested `depth` deep (graph → node If → attribute g → graph …), built as prefixes in O(depth). */
export function nestedOnnx(depth: number): Uint8Array {
  const leaf = fb(1, fb(4, 'Identity'));
  const prefixes: Uint8Array[] = [];
  let size = leaf.length;
  for (let i = 0; i < depth; i++) {
    // attribute { name = 1; type = 20; g = 6 } inside node { op_type = 4; attribute = 5 } inside graph { node = 1 }
    const attrHead = concat(fb(1, 'then_branch'), fv(20, 5), varint((6 << 3) | 2), varint(size));
    const attrSize = attrHead.length + size;
    const nodeHead = concat(fb(4, 'If'), varint((5 << 3) | 2), varint(attrSize));
    const nodeSize = nodeHead.length + attrSize;
    const graphHead = concat(varint((1 << 3) | 2), varint(nodeSize));
    prefixes.push(concat(graphHead, nodeHead, attrHead));
    size = graphHead.length + nodeSize;
  }
  const model = [fv(1, 8), fb(2, 'pytorch'), varint((7 << 3) | 2), varint(size)];
  return concat(...model, ...prefixes.reverse(), leaf);
}

describe('vendored schema', () => {
  it('schema.generated.ts is onnx.proto as protobufjs reads it', () => {
    const proto = readFileSync(new URL('../../src/formats/onnx/onnx.proto', import.meta.url), 'utf8');
    assert.match(proto, /SPDX-License-Identifier: Apache-2.0/);
    const json = protobuf.parse(proto, { keepCase: true }).root.toJSON();
    assert.deepEqual(JSON.parse(JSON.stringify(ONNX_SCHEMA_JSON)), JSON.parse(JSON.stringify(json)));
  });
});

describe('readOnnx on files written by onnx 1.12', () => {
  it('decodes the header, graph, initializers and metadata of an MLP', () => {
    const m = read(file('clean/mlp.onnx'));
    assert.equal(m.ir_version, 8);
    assert.equal(m.producer_name, 'modelgate-fixtures');
    assert.deepEqual(m.opset_import!.map((o) => [o.domain ?? '', o.version]), [['', 13]]);
    assert.deepEqual(m.graph!.node!.map((n) => n.op_type), ['MatMul', 'Add', 'Relu', 'MatMul']);
    const init = m.graph!.initializer!;
    assert.deepEqual(init.map((t) => [t.name, t.dims, t.data_type, (t.raw_data as ProtoPayload).bytes]), [['W1', [4, 8], 1, 128], ['B1', [8], 1, 32], ['W2', [8, 2], 1, 64]]);
    assert.deepEqual(m.metadata_props!.map((e) => [e.key, e.value]), [['author', 'modelgate'], ['license', 'Apache-2.0']]);
  });

  it('finds every subgraph and every tensor of If/Loop models', () => {
    const m = read(file('clean/control_flow.onnx'));
    assert.deepEqual(onnxGraphs(m).map((g) => g.where).sort(), ['graph', 'graph/node[1 If].else_branch', 'graph/node[1 If].then_branch', 'graph/node[2 Loop].body']);
    assert.deepEqual(onnxTensors(m).map((t) => t.tensor.name).sort(), ['cv', 'one', 'step', 'trip']);
  });

  it('counts typed data, sparse parts and attribute tensors', () => {
    const m = read(file('clean/typed_data.onnx'));
    const byName = new Map(onnxTensors(m).map((t) => [t.tensor.name, t.tensor]));
    assert.equal(byName.get('f')!.float_data!.count, 6);
    assert.equal(byName.get('i')!.int64_data!.count, 3);
    assert.equal(byName.get('s')!.string_data!.count, 2);
    assert.equal(byName.get('c')!.float_data!.count, 2);
    assert.equal(byName.get('sv')!.float_data!.count, 2);
    assert.equal(byName.get('kv')!.float_data!.count, 2);
    assert.deepEqual(m.graph!.node!.map((n) => n.domain ?? ''), ['', '', 'com.microsoft', 'ai.onnx.ml']);
  });

  it('reads local functions and external data entries', () => {
    const f = read(file('clean/local_function.onnx'));
    assert.deepEqual(f.functions!.map((x) => [x.domain, x.name, x.node!.length]), [['custom.local', 'Swish', 2]]);
    const e = read(file('clean/external/model.onnx'));
    const w1 = e.graph!.initializer![0];
    assert.equal(w1.data_location, 1);
    assert.deepEqual(w1.external_data!.map((x) => [x.key, x.value]), [['location', 'model.onnx_data'], ['offset', '0'], ['length', '128']]);
  });

  it('reads a 64 MB initializer without reading its bytes', () => {
    const raw = 64 << 20;
    const tensorHead = concat(fv(1, 4096), fv(1, 4096), fv(2, 1), fb(8, 'big'), varint((9 << 3) | 2), varint(raw));
    const tensorLen = tensorHead.length + raw;
    const graphTail = fb(2, 'g');
    const initHead = concat(varint((5 << 3) | 2), varint(tensorLen));
    const graphLen = initHead.length + tensorLen + graphTail.length;
    const before = concat(fv(1, 8), fb(2, 'x'), varint((7 << 3) | 2), varint(graphLen), initHead, tensorHead);
    const after = concat(graphTail, fb(8, fv(2, 13)));
    const bytes = new Uint8Array(before.length + raw + after.length);
    bytes.set(before);
    bytes.set(after, before.length + raw);
    const src = new CountingSource(bytes);
    const m = readOnnx(src);
    assert.equal(m.graph!.name, 'g');
    assert.equal((m.graph!.initializer![0].raw_data as ProtoPayload).bytes, raw);
    assert.ok(src.bytesRead < 1 << 20, `read ${src.bytesRead} bytes`);
  });
});

describe('looksLikeOnnx', () => {
  it('claims every ONNX file written by onnx', () => {
    for (const p of ['clean/mlp.onnx', 'clean/control_flow.onnx', 'clean/typed_data.onnx', 'clean/local_function.onnx', 'clean/external/model.onnx']) {
      const b = file(p);
      assert.ok(looksLikeOnnx(b.subarray(0, 4096), b.length, false), p);
    }
    const tiny = new Uint8Array(readFileSync(new URL('../fixtures/corpus/onnx/tiny.onnx', import.meta.url)));
    assert.ok(looksLikeOnnx(tiny, tiny.length, false));
  });

  it('does not claim SavedModels, GraphDefs, TFLite, text or random bytes', () => {
    for (const p of ['clean/savedmodel/saved_model.pb', 'clean/savedmodel/keras_metadata.pb', 'clean/frozen_graph.pb', 'clean/builtin.tflite', 'make_fixtures.py']) {
      const b = file(p);
      assert.ok(!looksLikeOnnx(b.subarray(0, 4096), b.length, false), p);
    }
    const rnd = lcg(42);
    let claimed = 0;
    for (let i = 0; i < 50_000; i++) {
      const b = Uint8Array.from({ length: 256 }, () => Math.floor(rnd() * 256));
      if (looksLikeOnnx(b, b.length, false)) claimed++;
    }
    assert.equal(claimed, 0);
  });

  it('claims a truncated model whose first field is ir_version, and refuses a .onnx with another first field unless named', () => {
    const b = concat(fv(1, 8), fb(2, 'pytorch'), fbLying(7, 5000));
    assert.ok(looksLikeOnnx(b, b.length, false));
    const noIr = concat(fb(2, 'pytorch'), fb(7, fb(1, fb(4, 'Relu'))));
    assert.ok(!looksLikeOnnx(noIr, noIr.length, false));
    assert.ok(looksLikeOnnx(noIr, noIr.length, true));
  });
});

describe('hostile ONNX', () => {
  it('fails on truncation at every length without anything but FormatError', () => {
    const b = file('clean/control_flow.onnx');
    for (let n = 1; n < b.length; n += 7) {
      try {
        read(b.subarray(0, n));
      } catch (e) {
        assert.ok(e instanceof FormatError || e instanceof LimitError, `cut at ${n}: ${e}`);
      }
    }
  });

  it('refuses a 2^62 length prefix and a 1 GB string without allocating them', () => {
    assert.throws(() => read(concat(fv(1, 8), fbLying(7, 2n ** 62n, fb(1, '')))), FormatError);
    const node = concat(varint((4 << 3) | 2), varint(1 << 30), new TextEncoder().encode('Relu'));
    assert.throws(() => read(concat(fv(1, 8), fb(7, fb(1, node)))), FormatError);
  });

  it('stops 100,000-deep subgraph nesting at the depth limit, fast', () => {
    const b = nestedOnnx(100_000);
    const t0 = performance.now();
    assert.throws(() => read(b), (e: unknown) => e instanceof LimitError && e.limit === 'proto-depth');
    assert.ok(performance.now() - t0 < 1000);
  });

  it('refuses models of 2 GiB or more before reading them', () => {
    const huge: ByteSource = { size: 2 ** 31, read: () => assert.fail('must not read') };
    assert.throws(() => readOnnx(huge), (e: unknown) => e instanceof LimitError && e.limit === 'onnx-size');
  });

  it('survives seeded byte mutations with typed errors only', () => {
    const rnd = lcg(7);
    for (const p of readdirSync(new URL('clean/', dir)).filter((f) => f.endsWith('.onnx'))) {
      const base = file(`clean/${p}`);
      for (let i = 0; i < 300; i++) {
        const b = Uint8Array.from(base);
        for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
        try {
          const m = read(b);
          onnxTensors(m);
        } catch (e) {
          assert.ok(e instanceof FormatError || e instanceof LimitError, `${p} mutation ${i}: ${e}`);
        }
      }
    }
  });
});
