// Hydra/OmegaConf configs: NeMo's model_config.yaml (inside .nemo tars), Lightning/Hydra training
// configs, and any YAML/JSON with `_target_`, interpolations or PyYAML python tags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferSource } from '../../src/formats/source.ts';
import { scanSource } from '../../src/scan/walker.ts';
import type { Finding } from '../../src/scan/model.ts';
import { FIXTURES, findingsAbove, scanOne } from '../helpers/scan.ts';

const K = `${FIXTURES}/keras`;

async function findingsOf(text: string, name = 'config.yaml'): Promise<Finding[]> {
  const rows = await scanSource(new BufferSource(Buffer.from(text)), name, { hash: false });
  return rows.flatMap((r) => r.findings);
}
const brief = (f: Finding[]) => f.map((x) => `${x.severity} ${x.ruleId} ${x.evidence.target ?? x.evidence.resolver ?? x.evidence.tag ?? ''}`);

test('a clean .nemo (NeMo Conformer model_config.yaml): only the info list of targets', async () => {
  const { report, code } = await scanOne(`${K}/nemo_clean.nemo`);
  assert.equal(code, 0);
  assert.deepEqual(findingsAbove(report, 'info'), []);
  const info = report.files.flatMap((r) => r.findings).find((x) => x.ruleId === 'MG-HYDRA-003')!;
  assert.deepEqual(info.evidence.targets, [
    'nemo.collections.asr.modules.AudioToMelSpectrogramPreprocessor',
    'nemo.collections.asr.modules.SpectrogramAugmentation',
    'nemo.collections.asr.modules.ConformerEncoder',
    'nemo.collections.asr.modules.ConvASRDecoder',
  ]);
});

test('Lightning + Hydra train config: torch/lightning targets allowed, env read low, project code high', async () => {
  const { report } = await scanOne(`${K}/hydra_train.yaml`);
  const f = report.files[0].findings;
  assert.deepEqual(brief(f).filter((s) => !s.startsWith('info')), [
    'low MG-HYDRA-004 oc.env',
    'high MG-HYDRA-002 src.data.mnist_datamodule.MNISTDataModule',
  ]);
  const env = f.find((x) => x.ruleId === 'MG-HYDRA-004')!;
  assert.equal(env.evidence.variable, 'PROJECT_ROOT');
  const info = f.find((x) => x.ruleId === 'MG-HYDRA-003')!;
  assert.ok((info.evidence.targets as string[]).includes('lightning.pytorch.callbacks.ModelCheckpoint'));
  assert.ok((info.evidence.targets as string[]).includes('torch.optim.Adam'));
});

test('deny-listed targets are critical: shutil.rmtree fixture, builtins, hydra helpers, bare eval', async () => {
  const { report, code } = await scanOne(`${K}/hydra_target_shutil.yaml`);
  assert.equal(code, 1);
  assert.deepEqual(brief(report.files[0].findings), ['critical MG-HYDRA-001 shutil.rmtree']);
  const f = await findingsOf('a: {_target_: builtins.exec, _args_: ["import os"]}\nb: {_target_: hydra.utils.get_method, path: os.system}\nc: {_target_: eval}\nd: {_target_: posix.system, command: id}\ne: {_target_: torch.load, f: x.pt}\n');
  assert.deepEqual(brief(f), ['critical MG-HYDRA-001 builtins.exec', 'critical MG-HYDRA-001 hydra.utils.get_method', 'critical MG-HYDRA-001 eval', 'critical MG-HYDRA-001 posix.system', 'critical MG-HYDRA-001 torch.load']);
  assert.deepEqual(f[0].evidence.hydraKeys, ['_args_']);
});

test('loader methods and trust_remote_code', async () => {
  const f = await findingsOf('m: {_target_: transformers.AutoModel.from_pretrained, pretrained_model_name_or_path: x/y, trust_remote_code: true}\nn: {_target_: transformers.AutoModel.from_pretrained, pretrained_model_name_or_path: bert-base-uncased}\no: {_target_: nemo.collections.asr.models.EncDecCTCModel.restore_from, restore_path: other.nemo}\n');
  assert.deepEqual(brief(f).filter((s) => !s.startsWith('info')), ['high MG-HYDRA-002 transformers.AutoModel.from_pretrained', 'high MG-HYDRA-002 nemo.collections.asr.models.EncDecCTCModel.restore_from']);
});

test('_target_ that is not a dotted path', async () => {
  const f = await findingsOf('{"_target_": ["os", "system"]}', 'config.json');
  assert.deepEqual(brief(f), ['high MG-HYDRA-002 ["os","system"]']);
});

test('resolvers: eval fixture high; built-ins silent; unknown custom low; shell expansion ignored', async () => {
  const { report, code } = await scanOne(`${K}/hydra_eval_resolver.yaml`);
  assert.equal(code, 1);
  assert.ok(report.files[0].findings.some((x) => x.ruleId === 'MG-HYDRA-005' && x.severity === 'high' && x.evidence.resolver === 'eval'));
  const f = await findingsOf('a: ${oc.select:x.y, 1}\nb: ${now:%H}\nc: ${hydra:runtime.cwd}\nd: ${times:2,3}\ne: "echo ${HOME:-/root}"\nf: ${oc.env:HF_TOKEN,hf_secretdefault}\ng: ${python:1+1}\n');
  assert.deepEqual(brief(f), ['low MG-HYDRA-005 times', 'low MG-HYDRA-004 oc.env', 'high MG-HYDRA-005 python']);
  assert.ok(!JSON.stringify(f).includes('hf_secretdefault'), 'the default value of an env interpolation is never shown');
});

test('PyYAML python tags', async () => {
  const f = await findingsOf('a: !!python/object/apply:os.system ["id"]\nb: !!python/name:yaml.load\n');
  assert.deepEqual(brief(f), ['critical MG-HYDRA-006 os.system', 'critical MG-HYDRA-006 yaml.load']);
  assert.equal(f[0].evidence.tag, 'python/object/apply');
  assert.equal(f[0].evidence.line, 1);
});

test('configs without targets or interpolations are not walked', async () => {
  assert.deepEqual(await findingsOf('{"vocab": {"a": 1}, "merges": ["a b"]}', 'tokenizer.json'), []);
  assert.deepEqual(await findingsOf('name: x\nlayers: 3\n'), []);
});

test('a config nested beyond the walk depth is an error with MG-LIM-001', async () => {
  const { report } = await scanOne(`${K}/hostile/hydra_deep.json`);
  assert.equal(report.files[0].status, 'error');
  assert.ok(report.files[0].findings.some((x) => x.ruleId === 'MG-LIM-001'));
});

test('hparams.yaml with a python/object/apply tag (fixture)', async () => {
  const { report, code } = await scanOne(`${K}/yaml_python_tag.yaml`);
  assert.equal(code, 1);
  assert.deepEqual(brief(report.files[0].findings), ['critical MG-HYDRA-006 subprocess.check_output']);
});

test('hydra.utils.get_class/get_method: the resolved path is judged', async () => {
  const f = await findingsOf('a: {_target_: hydra.utils.get_class, path: torch.nn.Linear}\nb: {_target_: hydra.utils.get_method, path: os.system}\nc: {_target_: hydra.utils.get_class, path: my.pkg.Model}\nd: {_target_: hydra.utils.call, config: x}\n');
  assert.deepEqual(brief(f), ['critical MG-HYDRA-001 hydra.utils.get_method', 'high MG-HYDRA-002 hydra.utils.get_class', 'critical MG-HYDRA-001 hydra.utils.call', 'info MG-HYDRA-003 ']);
  assert.match(f[0].message, /resolves os\.system/);
});

test('argument values under credential-like names are masked in messages', async () => {
  const f = await findingsOf('l: {_target_: my.logger.Remote, api_key: sk-live-0123456789abcdef, project: demo}\n');
  assert.match(f[0].message, /api_key=\*\*\*, project=demo/);
  assert.ok(!JSON.stringify(f).includes('sk-live'));
});
