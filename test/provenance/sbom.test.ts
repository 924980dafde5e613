import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as CDX from '@cyclonedx/cyclonedx-library';
import { buildSbom, licensesFromCard, type CdxComponentJson, type MlBom } from '../../src/provenance/sbom/index.ts';
import { extractCard } from '../../src/provenance/card/index.ts';
import { FIXTURES, runCli } from '../helpers/scan.ts';
import { GT, gguf } from '../helpers/gguf-bytes.ts';

const CARD = `${FIXTURES}/card`;
const CORPUS = `${FIXTURES}/corpus`;
const validator = new CDX.Validation.JsonStrictValidator(CDX.Spec.Version.v1dot6);
const FIXED = { timestamp: new Date('2026-01-02T03:04:05Z'), serialNumber: 'urn:uuid:00000000-0000-4000-8000-000000000001' };

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mg-sbom-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function model(bom: MlBom): CdxComponentJson {
  const c = bom.components?.find((x) => x.type === 'machine-learning-model');
  assert.ok(c, 'the BOM has a machine-learning-model component');
  return c;
}
const prop = (c: { properties?: Array<{ name: string; value: string }> }, name: string): string | undefined => c.properties?.find((p) => p.name === name)?.value;

test('every fixture model yields an SBOM the strict CycloneDX 1.6 validator accepts', async (t) => {
  const ggufDir = tempDir(t);
  writeFileSync(join(ggufDir, 'm.gguf'), gguf([
    { key: 'general.architecture', type: GT.STRING, value: 'llama' },
    { key: 'general.base_model.count', type: GT.U32, value: 1 },
    { key: 'general.base_model.0.repo_url', type: GT.STRING, value: 'https://huggingface.co/meta-llama/Llama-3.2-1B' },
    { key: 'general.file_type', type: GT.U32, value: 7 },
  ]));
  const paths = [
    `${CARD}/bert-base-uncased`, `${CARD}/gpt2`, `${CARD}/llama3-8b-instruct`, `${CARD}/tiny-llama-ft`,
    `${CORPUS}/hf_model_bert`, `${CORPUS}/hf_automap_subprocess`, `${CORPUS}/gguf/chat_template_ssti.gguf`, `${CORPUS}/gguf`, ggufDir,
  ];
  for (const p of paths) {
    const r = await buildSbom(p, FIXED);
    assert.equal(await validator.validate(r.json), null, p);
    assert.equal(r.bom.specVersion, '1.6');
    assert.ok(model(r.bom).modelCard, `${p}: modelCard`);
  }
  const g = await buildSbom(ggufDir, FIXED);
  assert.equal(model(g.bom).pedigree?.ancestors?.[0].name, 'meta-llama/Llama-3.2-1B');
  assert.deepEqual(model(g.bom).modelCard?.considerations?.technicalLimitations, ['Quantized weights: Q8_0.']);
});

test('tiny Llama fine-tune: modelCard, named license, pedigree, hashes, scan facts', async () => {
  const dir = `${CARD}/tiny-llama-ft`;
  const { bom, json } = await buildSbom(dir, FIXED);
  assert.equal(await validator.validate(json), null);
  assert.equal(bom.metadata?.timestamp, '2026-01-02T03:04:05.000Z');
  assert.equal(bom.serialNumber, FIXED.serialNumber);
  assert.equal(bom.metadata?.tools?.components?.[0].name, 'modelgate');
  const m = model(bom);
  assert.equal(m.name, 'tiny-llama-ft');
  // From the license review: the knowledge-base entry behind `license: other` + `license_name: llama3`.
  assert.deepEqual(m.licenses, [{ license: { name: 'Meta Llama 3 Community License Agreement', url: 'LICENSE' } }]);
  assert.equal(prop(m, 'modelgate:license:expression'), 'LicenseRef-llama3');
  assert.equal(prop(m, 'modelgate:license:LicenseRef-llama3:category'), 'model-community');
  assert.equal(prop(m, 'modelgate:license:declared'), 'other');

  const mc = m.modelCard!;
  assert.equal(mc.modelParameters?.task, 'text-generation');
  assert.equal(mc.modelParameters?.architectureFamily, 'llama');
  assert.equal(mc.modelParameters?.modelArchitecture, 'LlamaForCausalLM');
  assert.deepEqual(mc.modelParameters?.datasets, [{ type: 'dataset', name: 'HuggingFaceH4/ultrachat_200k' }, { type: 'dataset', name: 'Open-Orca/SlimOrca' }]);
  assert.deepEqual(mc.modelParameters?.inputs, [{ format: 'text' }]);
  assert.deepEqual(mc.quantitativeAnalysis?.performanceMetrics, [{ type: 'acc', value: '25.4', slice: 'MMLU (5-shot)' }]);
  assert.match(mc.considerations?.technicalLimitations?.[0] ?? '', /Context window: 4096 tokens/);
  assert.equal(prop(mc, 'modelgate:parameters'), '106816');
  assert.equal(prop(mc, 'modelgate:tensorDtypes'), '{"BF16":106816}');
  assert.equal(prop(mc, 'modelgate:parameters:estimate'), undefined);

  const anc = m.pedigree?.ancestors ?? [];
  assert.equal(anc.length, 1);
  assert.equal(anc[0].type, 'machine-learning-model');
  assert.equal(anc[0].purl, 'pkg:huggingface/meta-llama/Meta-Llama-3-8B-Instruct');
  assert.equal(prop(anc[0], 'modelgate:relation'), 'finetune');

  // One file component per file, each with its SHA-256 and scan facts.
  const files = m.components ?? [];
  assert.deepEqual(files.map((f) => f.name).sort(), readdirSync(dir).sort());
  for (const f of files) {
    assert.equal(f.type, 'file');
    assert.deepEqual(f.hashes, [{ alg: 'SHA-256', content: createHash('sha256').update(readFileSync(join(dir, f.name))).digest('hex') }]);
    assert.equal(prop(f, 'modelgate:scan:status'), 'scanned');
    assert.equal(prop(f, 'modelgate:scan:maxSeverity'), 'none');
  }
  assert.equal(prop(files.find((f) => f.name === 'model-00001-of-00002.safetensors')!, 'modelgate:format'), 'safetensors');
  assert.equal(prop(m, 'modelgate:format:safetensors'), '2');
  assert.equal(prop(m, 'modelgate:modelFormats'), 'safetensors');
  assert.equal(prop(m, 'modelgate:scan:maxSeverity'), 'none');
  assert.deepEqual(bom.dependencies?.find((d) => d.ref === 'model')?.dependsOn?.length, files.length);
});

test('licenses: Hub ids become SPDX ids, model licenses and "other" become named licenses, "unknown" none', async (t) => {
  const spdx = await buildSbom(`${CORPUS}/hf_model_bert`, FIXED);
  assert.deepEqual(model(spdx.bom).licenses, [{ license: { id: 'Apache-2.0' } }]);
  const llama = await buildSbom(`${CARD}/llama3-8b-instruct`, FIXED);
  assert.deepEqual(model(llama.bom).licenses, [{ license: { name: 'Meta Llama 3 Community License Agreement' } }]);
  // A single GGUF file: not a license text; the card's general.license is used.
  const ggufFile = join(tempDir(t), 'm.gguf');
  writeFileSync(ggufFile, gguf([{ key: 'general.license', type: GT.STRING, value: 'apache-2.0' }]));
  assert.deepEqual(model((await buildSbom(ggufFile, FIXED)).bom).licenses, [{ license: { id: 'Apache-2.0' } }]);

  const dir = tempDir(t);
  const card = (fm: string) => {
    writeFileSync(join(dir, 'README.md'), `---\n${fm}\n---\n`);
    return licensesFromCard(extractCard(dir));
  };
  assert.deepEqual(card('license: cc-by-nc-4.0'), [{ spdx: 'CC-BY-NC-4.0' }]);
  assert.deepEqual(card('license: other'), [{ name: 'other' }]);
  assert.deepEqual(card('license: other\nlicense_name: qwen-research\nlicense_link: https://huggingface.co/Qwen/x/blob/main/LICENSE'), [{ name: 'qwen-research', url: 'https://huggingface.co/Qwen/x/blob/main/LICENSE' }]);
  assert.deepEqual(card('license: unknown'), []);
  assert.deepEqual(card('license:\n- mit\n- apache-2.0'), [{ spdx: 'MIT' }, { spdx: 'Apache-2.0' }]);
  writeFileSync(join(dir, 'README.md'), '---\nlicense: other\nlicense_name: qwen-research\nlicense_link: LICENSE\n---\n');
  const r = await buildSbom(dir, FIXED);
  assert.equal(await validator.validate(r.json), null);
  // A reviewed license list from a caller replaces the card's.
  const reviewed = await buildSbom(dir, { ...FIXED, licenses: [{ spdx: 'Apache-2.0' }] });
  assert.deepEqual(model(reviewed.bom).licenses, [{ license: { id: 'Apache-2.0' } }]);
});

test('scan verdicts: a malicious pickle is critical on its file and on the model; auto_map is a limitation', async (t) => {
  const dir = tempDir(t);
  for (const f of readdirSync(`${CORPUS}/hf_automap_subprocess`)) copyFileSync(`${CORPUS}/hf_automap_subprocess/${f}`, join(dir, f));
  copyFileSync(`${CORPUS}/deny/os_system_p1.pkl`, join(dir, 'pytorch_model.bin'));
  const { bom, json } = await buildSbom(dir, FIXED);
  assert.equal(await validator.validate(json), null);
  const m = model(bom);
  assert.equal(prop(m, 'modelgate:scan:maxSeverity'), 'critical');
  const bin = m.components!.find((f) => f.name === 'pytorch_model.bin')!;
  assert.equal(prop(bin, 'modelgate:scan:maxSeverity'), 'critical');
  assert.equal(prop(bin, 'modelgate:format'), 'pickle');
  assert.ok(Number(prop(bin, 'modelgate:scan:findings')) >= 1);
  assert.equal(prop(m, 'modelgate:autoMap:AutoModel'), 'modeling_custom.CustomModel (config.json)');
  assert.ok(m.modelCard?.considerations?.technicalLimitations?.some((l) => /requires trust_remote_code/.test(l)));
  // Per-file verdicts are the file's own: config.json carries the auto_map finding, not the pickle's.
  const cfg = prop(m.components!.find((f) => f.name === 'config.json')!, 'modelgate:scan:maxSeverity');
  assert.ok(cfg !== undefined && cfg !== 'critical', `config.json: ${cfg}`);
});

test('same inputs, same timestamp and serial: byte-identical BOMs; the validator is not vacuous', async () => {
  const a = await buildSbom(`${CARD}/gpt2`, FIXED);
  const b = await buildSbom(`${CARD}/gpt2`, FIXED);
  assert.equal(a.json, b.json);
  assert.equal(prop(model(a.bom).modelCard!, 'modelgate:parameters:estimate'), 'true');
  const broken = JSON.parse(a.json) as MlBom;
  (model(broken).modelCard as Record<string, unknown>).madeUp = true;
  assert.notEqual(await validator.validate(JSON.stringify(broken)), null);
});

test('CLI: `sbom` writes a valid BOM to stdout or --output; an unsupported --spec exits 2', async (t) => {
  const out = join(tempDir(t), 'bom.json');
  const r = runCli(['sbom', `${CARD}/bert-base-uncased`, '--output', out], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /CycloneDX 1\.6 ML-BOM with 3 files written to/);
  const text = readFileSync(out, 'utf8');
  assert.equal(await validator.validate(text), null);
  assert.equal((JSON.parse(text) as MlBom).metadata?.timestamp, '2023-11-14T22:13:20.000Z');
  const s = runCli(['sbom', `${CORPUS}/gguf/chujiezheng-amberchat.gguf`]);
  assert.equal(s.code, 0, s.stderr);
  assert.equal(await validator.validate(s.stdout), null);
  assert.equal(model(JSON.parse(s.stdout) as MlBom).components?.length, 1);
  const bad = runCli(['sbom', `${CARD}/gpt2`, '--spec', '1.5']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /Allowed choices are 1\.6/);
});

test('archives: members are summarised on their file, not listed as components', async (t) => {
  const dir = tempDir(t);
  copyFileSync(`${CORPUS}/container/model_bundle.tgz`, join(dir, 'model_bundle.tgz'));
  const { bom, json, report } = await buildSbom(dir, FIXED);
  assert.equal(await validator.validate(json), null);
  assert.ok(report.files.some((f) => f.path.includes('!')), 'the scan saw archive members');
  const files = model(bom).components ?? [];
  assert.deepEqual(files.map((f) => f.name), ['model_bundle.tgz']);
  assert.equal(prop(files[0], 'modelgate:members'), String(report.files.length - 1));
  assert.equal(prop(files[0], 'modelgate:format'), report.files[0].format);
});
