// Keras configs: .keras archives (config.json) and legacy .h5 files (model_config/training_config root
// attributes) written by h5py in Keras's layouts (test/fixtures/keras/make_fixtures.py), plus crafted
// configs for each gadget family. Real configs (Sequential/Functional with Dense, Conv, BatchNorm,
// Dropout, Embedding, LSTM …) must stay clean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferSource } from '../../src/formats/source.ts';
import { scanSource } from '../../src/scan/walker.ts';
import type { Finding } from '../../src/scan/model.ts';
import { marshalStrings } from '../../src/scan/checks/keras-hydra/marshal.ts';
import { FIXTURES, findingsAbove, scanOne } from '../helpers/scan.ts';
import { storedZip } from '../helpers/archives.ts';

const K = `${FIXTURES}/keras`;

async function findingsOf(config: unknown, name = 'config.json'): Promise<Finding[]> {
  const rows = await scanSource(new BufferSource(Buffer.from(JSON.stringify(config))), name, { hash: false });
  return rows.flatMap((r) => r.findings);
}

const dense = (name: string) => ({ module: 'keras.layers', class_name: 'Dense', config: { name, units: 2 }, registered_name: null });
const sequential = (...layers: unknown[]) => ({ module: 'keras', class_name: 'Sequential', config: { name: 'sequential', layers: [dense('a'), ...layers] }, registered_name: null });

for (const f of ['keras2_sequential.h5', 'keras2_functional_fixed.h5', 'keras2_big_config.h5', 'keras2_big_config_dense.h5', 'keras2_many_attrs_dense.h5', 'keras3_sequential.keras', 'keras3_functional.keras', 'plain_data.h5']) {
  test(`clean: ${f}`, async () => {
    const { report, code } = await scanOne(`${K}/${f}`);
    assert.equal(code, 0, findingsAbove(report, 'low').join('; '));
    assert.deepEqual(findingsAbove(report, 'low'), []);
    assert.equal(report.summary.errors, 0);
    assert.ok(report.files.filter((r) => r.path.endsWith('.h5')).every((r) => r.format === 'hdf5'));
  });
}

const MALICIOUS: Record<string, { rule: string; severity: string; text?: RegExp }> = {
  'keras2_lambda.h5': { rule: 'MG-KERAS-001', severity: 'high', text: /Lambda layer "lambda".*"<lambda>"/ },
  'keras2_lambda_os.h5': { rule: 'MG-KERAS-001', severity: 'critical', text: /uses os, __import__, system/ },
  'keras2_lambda_dense.h5': { rule: 'MG-KERAS-001', severity: 'high', text: /layers\[150\]/ },
  'keras3_lambda.keras': { rule: 'MG-KERAS-001', severity: 'high' },
  'keras3_module_builtins.keras': { rule: 'MG-KERAS-002', severity: 'critical', text: /"builtins".*exec/ },
  'keras3_custom_object.keras': { rule: 'MG-KERAS-002', severity: 'high', text: /my_project\.layers/ },
  'keras3_get_file.keras': { rule: 'MG-KERAS-003', severity: 'critical', text: /get_file/ },
  'keras3_torch_wrapper.keras': { rule: 'MG-PKL-001', severity: 'critical', text: /posix\.system/ },
};

for (const [f, want] of Object.entries(MALICIOUS)) {
  test(`malicious: ${f} → ${want.rule} ${want.severity}`, async () => {
    const { report, code } = await scanOne(`${K}/${f}`);
    assert.equal(code, 1);
    const all = report.files.flatMap((r) => r.findings);
    const hit = all.find((x) => x.ruleId === want.rule && x.severity === want.severity && (!want.text || want.text.test(x.message)));
    assert.ok(hit, JSON.stringify(all.map((x) => [x.ruleId, x.severity, x.message])));
    assert.equal(report.summary.errors, 0);
  });
}

test('h5 findings point at the attribute they came from', async () => {
  const { report } = await scanOne(`${K}/keras2_lambda.h5`);
  const f = report.files[0].findings.find((x) => x.ruleId === 'MG-KERAS-001')!;
  assert.match(f.path, /keras2_lambda\.h5!<model_config>$/);
  assert.deepEqual(f.evidence.strings, ['x', 'model.py', '<lambda>']);
});

test('TorchModuleWrapper is reported and its torch.load payload scanned as pickle', async () => {
  const { report } = await scanOne(`${K}/keras3_torch_wrapper.keras`);
  const all = report.files.flatMap((r) => r.findings);
  assert.ok(all.some((x) => x.ruleId === 'MG-KERAS-003' && /TorchModuleWrapper/.test(x.message)));
  assert.ok(all.some((x) => x.ruleId === 'MG-PKL-001' && /TorchModuleWrapper module>$/.test(x.path)));
});

test('user block: low MG-HDF5-002, config still checked', async () => {
  const { report, code } = await scanOne(`${K}/keras2_userblock.h5`);
  assert.equal(code, 0);
  assert.deepEqual(report.files[0].findings.map((x) => x.ruleId), ['MG-HDF5-002']);
});

test('Keras 2 Lambda of a named function: graded by the deny list', async () => {
  const cfg = { class_name: 'Sequential', config: { layers: [{ class_name: 'Lambda', config: { name: 'l', function: 'system', function_type: 'function', module: 'os' } }] } };
  const f = await findingsOf(cfg);
  assert.ok(f.some((x) => x.ruleId === 'MG-KERAS-001' && x.severity === 'critical' && /os\.system/.test(x.message)), JSON.stringify(f));
});

test('Keras 3 Lambda with a named function reference ({module, class_name: "function", config})', async () => {
  const f = await findingsOf(sequential({ module: 'keras.layers', class_name: 'Lambda', config: { name: 'l', function: { module: 'subprocess', class_name: 'function', config: 'getoutput', registered_name: 'function' } } }));
  assert.ok(f.some((x) => x.ruleId === 'MG-KERAS-001' && x.severity === 'critical'));
  // The function object is reported once, as the Lambda's function, not again as a module import.
  assert.equal(f.filter((x) => x.ruleId === 'MG-KERAS-002').length, 0);
});

test('Keras 3 function reference outside Keras (activation = os.system)', async () => {
  const f = await findingsOf(sequential({ ...dense('b'), config: { name: 'b', activation: { module: 'os', class_name: 'function', config: 'system', registered_name: 'function' } } }));
  assert.ok(f.some((x) => x.ruleId === 'MG-KERAS-002' && x.severity === 'critical' && /os.*system/.test(x.message)), JSON.stringify(f));
});

test('gadgets inside Keras: enable_unsafe_deserialization, load_model, StringLookup vocabulary path', async () => {
  const f = await findingsOf(sequential(
    { module: 'keras.config', class_name: 'function', config: 'enable_unsafe_deserialization', registered_name: 'function' },
    { module: 'keras.saving', class_name: 'function', config: 'load_model', registered_name: 'function' },
    { module: 'keras.layers', class_name: 'StringLookup', config: { name: 's', vocabulary: '/etc/passwd' }, registered_name: null },
  ));
  const g = f.filter((x) => x.ruleId === 'MG-KERAS-003').map((x) => [x.severity, x.evidence.name]);
  assert.deepEqual(g, [['critical', 'enable_unsafe_deserialization'], ['high', 'load_model'], ['high', 'StringLookup']]);
});

test('allowed: keras_hub presets, tf_keras, Custom>Adam optimizers, Keras-internal markers', async () => {
  const f = await findingsOf({
    module: 'keras_hub.src.models.gemma.gemma_causal_lm', class_name: 'GemmaCausalLM', registered_name: 'keras_hub>GemmaCausalLM',
    config: {
      backbone: { module: 'keras_hub.src.models.gemma.gemma_backbone', class_name: 'GemmaBackbone', config: { name: 'gemma_backbone' }, registered_name: 'keras_hub>GemmaBackbone' },
      legacy: { module: 'tf_keras.layers', class_name: 'Dense', config: {} },
      optimizer: { class_name: 'Custom>Adam', config: { learning_rate: 0.001 } },
      tuple: { class_name: '__tuple__', config: { value: [1, 2] } },
      tensor: { class_name: '__keras_tensor__', config: { shape: [null, 4], dtype: 'float32', keras_history: ['dense', 0, 0] } },
    },
  });
  assert.deepEqual(f.filter((x) => x.severity !== 'info'), []);
});

test('registered custom objects without a module are low (MG-KERAS-004)', async () => {
  const f = await findingsOf({ class_name: 'Sequential', config: { layers: [{ class_name: 'MyPackage>Residual', config: { units: 4 } }] } });
  assert.deepEqual(f.map((x) => [x.ruleId, x.severity]), [['MG-KERAS-004', 'low']]);
});

test('a dotted fn reference outside Keras is reported', async () => {
  const f = await findingsOf({ class_name: 'Sequential', config: { metrics: [{ class_name: 'MeanMetricWrapper', config: { name: 'm', fn: 'os.system' } }] } });
  assert.ok(f.some((x) => x.ruleId === 'MG-KERAS-002' && x.severity === 'critical'));
});

test('JSON outside a .keras archive that is not a Keras config is not checked', async () => {
  const f = await findingsOf({ module: 'os', note: 'not keras', class: 'system' }, 'settings.json');
  assert.deepEqual(f, []);
});

test('inside a .keras archive every JSON member is checked', async () => {
  const f = await findingsOf({ layers: [{ module: 'os', class_name: 'system', config: {} }] }, 'model.keras!config.json');
  assert.ok(f.some((x) => x.ruleId === 'MG-KERAS-002'));
});

test('model_config that is not JSON: low MG-KERAS-005, not an error', async () => {
  const { report, code } = await scanOne(`${K}/keras2_bad_json.h5`);
  assert.equal(code, 0);
  assert.equal(report.files[0].status, 'scanned');
  assert.deepEqual(report.files[0].findings.map((x) => [x.ruleId, x.severity]), [['MG-KERAS-005', 'low']]);
});

test('an unreadable HDF5 root fails closed with MG-HDF5-001', async () => {
  const { report, code } = await scanOne(`${K}/hostile/h5_huge_dataspace.h5`);
  assert.equal(code, 2);
  assert.equal(report.files[0].status, 'error');
  assert.equal(report.files[0].findings[0].ruleId, 'MG-HDF5-001');
});

test('marshal preview extracts names from a Python 3.11 code object without unmarshalling', () => {
  // marshal.dumps((lambda x: print("hi")).__code__) from CPython 3.11, shortened to its string records.
  const code = Buffer.concat([Buffer.from([0xe3, 0, 0, 0, 0]), Buffer.from([0xda, 5]), Buffer.from('print'), Buffer.from([0x7a, 2]), Buffer.from('hi'), Buffer.from([0xfa, 8]), Buffer.from('<lambda>'), Buffer.from([0x73, 3, 0, 0, 0, 0x97, 0x00, 0x53])]);
  assert.deepEqual(marshalStrings(code), ['print', 'hi', '<lambda>']);
  assert.deepEqual(marshalStrings(Buffer.from([0xda, 0xff, 0x41])), [], 'lengths past the end are skipped');
});

test('a config nested beyond the walk depth is an error with MG-LIM-001', async () => {
  let deep: unknown = { class_name: 'Dense', config: {} };
  for (let i = 0; i < 400; i++) deep = [deep];
  const rows = await scanSource(new BufferSource(Buffer.from(JSON.stringify({ class_name: 'Sequential', config: { layers: deep } }))), 'config.json', { hash: false });
  assert.equal(rows[0].status, 'error');
  assert.ok(rows[0].findings.some((x) => x.ruleId === 'MG-LIM-001'));
});

test('Keras 2 .h5 with a registered custom layer (Addons>…): low MG-KERAS-004 only', async () => {
  const { report, code } = await scanOne(`${K}/keras2_custom_layer.h5`);
  assert.equal(code, 0);
  assert.deepEqual(report.files[0].findings.map((x) => [x.ruleId, x.severity, x.evidence.name]), [['MG-KERAS-004', 'low', 'Addons>GroupNormalization']]);
});

test('config.json that Keras decodes but text tools skip (UTF-8 BOM, UTF-16, UTF-32) is still checked', async () => {
  const config = JSON.stringify(sequential({ module: 'os', class_name: 'system', config: { command: 'id' }, registered_name: null }));
  const utf32 = Buffer.alloc(config.length * 4);
  for (let i = 0; i < config.length; i++) utf32.writeUInt32LE(config.charCodeAt(i), i * 4);
  const variants: Record<string, Uint8Array> = {
    'utf-8-sig': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(config)]),
    'utf-16le': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(config, 'utf16le')]),
    'utf-16be': Buffer.from(config, 'utf16le').swap16(),
    'utf-32le': utf32,
  };
  for (const [encoding, bytes] of Object.entries(variants)) {
    const rows = await scanSource(new BufferSource(storedZip([['metadata.json', '{"keras_version": "3.6.0"}'], ['config.json', bytes]])), 'm.keras', { hash: false });
    const f = rows.flatMap((r) => r.findings);
    assert.ok(f.some((x) => x.ruleId === 'MG-KERAS-002' && x.severity === 'critical'), `${encoding}: ${JSON.stringify(f)}`);
    assert.ok(f.some((x) => x.ruleId === 'MG-KERAS-005' && x.evidence.encoding === encoding), encoding);
  }
});

test('TFOpLambda layers (tf.keras functional models): TF API paths are not imports, file/py ops are gadgets', async () => {
  const layer = (fn: string) => ({ class_name: 'TFOpLambda', config: { name: `tf.${fn}`, trainable: true, dtype: 'float32', function: fn }, name: `tf.${fn}`, inbound_nodes: [['dense', 0, 0, { y: 1.0 }]] });
  const clean = await findingsOf({ class_name: 'Functional', config: { layers: [layer('math.add'), layer('__operators__.add'), layer('compat.v1.transpose'), layer('nn.relu')] } });
  assert.deepEqual(clean, []);
  const bad = await findingsOf({ class_name: 'Functional', config: { layers: [layer('io.write_file'), layer('numpy_function')] } });
  assert.deepEqual(bad.map((x) => [x.ruleId, x.severity, x.evidence.name]), [['MG-KERAS-003', 'high', 'tf.io.write_file'], ['MG-KERAS-003', 'high', 'tf.numpy_function']]);
});
