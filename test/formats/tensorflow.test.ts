// TensorFlow protobufs (SavedModel, GraphDef, keras_metadata.pb, fingerprint.pb) read by field number,
// and TFLite FlatBuffers read by hand: structure of the fixtures, identification, hostile bytes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { FormatError, LimitError } from '../../src/formats/errors.ts';
import { BufferSource } from '../../src/formats/source.ts';
import { readGraphDef, readKerasMetadata, readSavedModel, sniffTfProto } from '../../src/formats/tensorflow/index.ts';
import { looksLikeTflite, readTflite } from '../../src/formats/tflite/index.ts';
import { concat, fb, fbLying, fv } from '../helpers/protobuf.ts';
import { lcg } from '../helpers/random.ts';

const file = (p: string) => new Uint8Array(readFileSync(new URL(`../fixtures/graph/${p}`, import.meta.url)));
const src = (b: Uint8Array) => new BufferSource(b);

describe('SavedModel', () => {
  it('reads meta graphs, nodes, library functions, string constants and Keras object metadata', () => {
    const sm = readSavedModel(src(file('clean/savedmodel/saved_model.pb')));
    assert.equal(sm.schemaVersion, 1);
    assert.equal(sm.metaGraphs.length, 1);
    const mg = sm.metaGraphs[0];
    assert.deepEqual(mg.tags, ['serve']);
    assert.equal(mg.tensorflowVersion, '2.15.0');
    assert.deepEqual(mg.graphs.map((g) => g.where), ['graph', 'function __inference_signature_wrapper_25', 'function __inference__traced_save_41', 'function __inference__traced_restore_67']);
    const save = mg.graphs[2].nodes;
    assert.ok(save.some((n) => n.op === 'SaveV2' && n.inputs[0] === 'ShardedFilename:filename:0'));
    assert.deepEqual(save.find((n) => n.name === 'Const_1')!.attrs.get('value')!.strings, ['_temp/part']);
    assert.deepEqual(mg.graphs[0].nodes.find((n) => n.name === 'StatefulPartitionedCall')!.attrs.get('f')!.funcs, ['__inference_signature_wrapper_25']);
    assert.equal(mg.userObjects.length, 1);
    assert.equal(JSON.parse(mg.userObjects[0].metadata).class_name, 'Dense');
  });

  it('reads asset file names', () => {
    assert.deepEqual(readSavedModel(src(file('clean/savedmodel_assets/saved_model.pb'))).metaGraphs[0].assets.map((a) => a.filename), ['vocab.txt']);
  });

  it('fails on truncation with FormatError only', () => {
    const b = file('clean/savedmodel/saved_model.pb');
    for (let n = 1; n < b.length; n += 13) {
      try {
        readSavedModel(src(b.subarray(0, n)));
      } catch (e) {
        assert.ok(e instanceof FormatError || e instanceof LimitError, `cut at ${n}: ${e}`);
      }
    }
    assert.throws(() => readSavedModel(src(concat(fv(1, 1), fbLying(2, 2n ** 62n)))), FormatError);
  });

  it('survives seeded byte mutations with typed errors only', () => {
    const base = file('clean/savedmodel/saved_model.pb');
    const rnd = lcg(11);
    for (let i = 0; i < 500; i++) {
      const b = Uint8Array.from(base);
      for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      try {
        readSavedModel(src(b));
      } catch (e) {
        assert.ok(e instanceof FormatError || e instanceof LimitError, `mutation ${i}: ${e}`);
      }
    }
  });
});

describe('GraphDef, keras_metadata.pb and identification', () => {
  it('reads a frozen graph', () => {
    const [g] = readGraphDef(src(file('clean/frozen_graph.pb')));
    assert.deepEqual(g.nodes.map((n) => [n.name, n.op, n.inputs]), [['x', 'Placeholder', []], ['w', 'Const', []], ['y', 'MatMul', ['x', 'w']]]);
  });

  it('reads Keras metadata nodes', () => {
    const nodes = readKerasMetadata(src(file('malicious/savedmodel_lambda/keras_metadata.pb')));
    assert.deepEqual(nodes.map((n) => [n.nodeId, n.nodePath, n.identifier]), [[0, 'root', '_tf_keras_sequential'], [1, 'root.layer-0', '_tf_keras_layer'], [2, 'root.layer_with_weights-0', '_tf_keras_layer']]);
    assert.equal(JSON.parse(nodes[1].metadata).class_name, 'Lambda');
  });

  it('tells the kinds apart by content and name', () => {
    const kind = (p: string, name = p) => {
      const b = file(p);
      return sniffTfProto(b.subarray(0, 4096), b.length, name);
    };
    assert.equal(kind('clean/savedmodel/saved_model.pb'), 'savedmodel');
    assert.equal(kind('clean/savedmodel/saved_model.pb', 'renamed.bin'), 'savedmodel');
    assert.equal(kind('clean/savedmodel/keras_metadata.pb'), 'keras-metadata');
    assert.equal(kind('clean/savedmodel/keras_metadata.pb', 'other.dat'), null);
    assert.equal(kind('clean/savedmodel/fingerprint.pb'), 'fingerprint');
    assert.equal(kind('clean/frozen_graph.pb'), 'graphdef');
    assert.equal(sniffTfProto(fv(1, 3), 2, 'hub/tfhub_module.pb'), 'hub-module');
    assert.equal(kind('clean/frozen_graph.pb', 'frozen.bin'), null);
    assert.equal(kind('clean/mlp.onnx', 'model.pb'), null);
    assert.equal(kind('make_fixtures.py', 'x.pb'), null);
    const truncated = concat(fv(1, 1), fbLying(2, 9999, fb(2, 'g')));
    assert.equal(sniffTfProto(truncated, truncated.length, 'x'), 'savedmodel');
  });
});

describe('TFLite', () => {
  it('reads operator codes (extended builtin codes included), buffers and metadata', () => {
    const m = readTflite(src(file('clean/builtin.tflite')));
    assert.equal(m.version, 3);
    assert.equal(m.description, 'MLIR Converted.');
    assert.deepEqual(m.operatorCodes, [{ builtinCode: 0, customCode: null, version: 1 }, { builtinCode: 130, customCode: null, version: 1 }]);
    assert.equal(m.subgraphs[0].name, 'main');
    assert.equal(m.subgraphs[0].operators, 2);
    assert.equal(m.subgraphs[0].tensors, 3);
    assert.deepEqual(m.buffers.map((b) => b.dataLength), [0, 0, 16, 8]);
    assert.deepEqual(m.metadata, [{ name: 'min_runtime_version', buffer: 3 }]);
  });

  it('reads custom op names and external buffer references', () => {
    assert.deepEqual(readTflite(src(file('malicious/flex_readfile.tflite'))).operatorCodes.map((c) => [c.builtinCode, c.customCode]), [[32, 'FlexReadFile'], [32, 'FlexEagerPyFunc']]);
    const outside = readTflite(src(file('review/tflite_buffer_outside.tflite')));
    assert.deepEqual([outside.buffers[2].offset, outside.buffers[2].size], [2 ** 40, 4096]);
  });

  it('identifies by the TFL3 identifier and a root offset inside the file', () => {
    const b = file('clean/builtin.tflite');
    assert.ok(looksLikeTflite(b, b.length));
    assert.ok(!looksLikeTflite(b, 20));
    assert.ok(!looksLikeTflite(file('clean/mlp.onnx'), 1000));
  });

  it('refuses offsets, vtables and vectors outside the buffer', () => {
    assert.throws(() => readTflite(src(file('hostile/tflite_bad_vtable.tflite'))), (e: unknown) => e instanceof FormatError && e.code === 'tflite-vtable');
    assert.throws(() => readTflite(src(file('hostile/tflite_bad_root.tflite'))), FormatError);
    assert.throws(() => readTflite(src(new Uint8Array(4))), FormatError);
    const b = Uint8Array.from(file('clean/builtin.tflite'));
    assert.throws(() => readTflite(src(b), { maxVector: 1 }), (e: unknown) => e instanceof LimitError && e.limit === 'tflite-vector');
  });

  it('survives truncation and seeded byte mutations with typed errors only', () => {
    const base = file('clean/detection_postprocess.tflite');
    for (let n = 0; n < base.length; n += 5) {
      try {
        readTflite(src(base.subarray(0, n)));
      } catch (e) {
        assert.ok(e instanceof FormatError || e instanceof LimitError, `cut at ${n}: ${e}`);
      }
    }
    const rnd = lcg(3);
    for (let i = 0; i < 2000; i++) {
      const b = Uint8Array.from(base);
      for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      try {
        readTflite(src(b));
      } catch (e) {
        assert.ok(e instanceof FormatError || e instanceof LimitError, `mutation ${i}: ${e}`);
      }
    }
  });
});
