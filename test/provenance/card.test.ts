import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CARD_LIMITS, estimateParameters, extractCard, parseFrontMatter } from '../../src/provenance/card/index.ts';
import { ModelgateError } from '../../src/scan/model.ts';
import { FIXTURES, runCli } from '../helpers/scan.ts';
import { GT, gguf, modelKvs, type KvSpec } from '../helpers/gguf-bytes.ts';

const CARD = `${FIXTURES}/card`;
const CORPUS = `${FIXTURES}/corpus`;
const sha = (s: string | Uint8Array): string => createHash('sha256').update(s).digest('hex');
const json = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mg-card-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Published parameter counts (transformers' num_parameters() of the base models). */
const PUBLISHED = { bert: 109_482_240, gpt2: 124_439_808, llama3_8b: 8_030_261_248 };

test('bert-base-uncased: architecture, context, license, datasets; parameters estimated within 0.5% of the published count', () => {
  const c = extractCard(`${CARD}/bert-base-uncased`);
  assert.deepEqual(c.architectures?.value, ['BertForMaskedLM']);
  assert.deepEqual(c.architectures?.sources, [{ file: 'config.json', key: 'architectures' }]);
  assert.equal(c.modelType?.value, 'bert');
  assert.equal(c.contextLength?.value, 512);
  assert.deepEqual(c.contextLength?.sources, [{ file: 'config.json', key: 'max_position_embeddings' }]);
  assert.equal(c.parameters?.estimate, true);
  assert.ok(Math.abs(c.parameters!.value - PUBLISHED.bert) / PUBLISHED.bert < 0.005, `estimate ${c.parameters!.value}`);
  assert.equal(c.tensorDtypes, null, 'no weight headers, no tensor dtypes');
  assert.deepEqual(c.license.license?.value, ['apache-2.0']);
  assert.deepEqual(c.license.license?.sources, [{ file: 'README.md', key: 'license' }]);
  assert.deepEqual(c.datasets?.value, ['bookcorpus', 'wikipedia']);
  assert.deepEqual(c.language?.value, ['en']);
  assert.equal(c.tokenizer.modelMaxLength?.value, 512);
  assert.equal(c.tokenizer.vocabSize?.value, 30522);
  assert.deepEqual(c.tokenizer.vocabSize?.sources, [{ file: 'config.json', key: 'vocab_size' }]);
  assert.deepEqual(c.chatTemplates, []);
  assert.deepEqual(c.warnings, []);
});

test('gpt2: GPT-2 key names (n_embd, n_layer, n_positions) give the estimate and the context length', () => {
  const c = extractCard(`${CARD}/gpt2`);
  assert.deepEqual(c.architectures?.value, ['GPT2LMHeadModel']);
  assert.equal(c.contextLength?.value, 1024);
  assert.equal(c.contextLength?.sources[0].key, 'n_positions');
  assert.ok(Math.abs(c.parameters!.value - PUBLISHED.gpt2) / PUBLISHED.gpt2 < 0.005, `estimate ${c.parameters!.value}`);
  assert.ok(c.parameters!.sources.some((s) => s.key === 'n_embd'));
  assert.deepEqual(c.license.license?.value, ['mit']);
  assert.equal(c.generationConfig?.value.bos_token_id, 50256);
  assert.equal(c.declaredDtype, null);
});

test('Meta-Llama-3-8B-Instruct config: exact parameter estimate, dtype, chat-template hash, special tokens', () => {
  const dir = `${CARD}/llama3-8b-instruct`;
  const c = extractCard(dir);
  assert.equal(c.parameters?.value, PUBLISHED.llama3_8b);
  assert.equal(c.parameters?.estimate, true);
  assert.equal(c.declaredDtype?.value, 'bfloat16');
  assert.equal(c.contextLength?.value, 8192);
  assert.equal(c.tokenizer.class?.value, 'PreTrainedTokenizerFast');
  assert.deepEqual(c.tokenizer.specialTokens?.value, { bos_token: '<|begin_of_text|>', eos_token: '<|eot_id|>' });
  assert.equal(c.tokenizer.modelMaxLength, null, "transformers' 1e30 'no limit' is not a length");
  const template = json(`${dir}/tokenizer_config.json`).chat_template as string;
  assert.equal(c.chatTemplates.length, 1);
  assert.equal(c.chatTemplates[0].sha256, sha(template));
  assert.equal(c.chatTemplates[0].bytes, Buffer.byteLength(template));
  assert.deepEqual(c.chatTemplates[0].source, { file: 'tokenizer_config.json', key: 'chat_template' });
  assert.deepEqual(c.generationConfig?.value.eos_token_id, [128001, 128009]);
  assert.deepEqual(c.license.license?.value, ['llama3']);
  assert.equal(c.pipelineTag?.value, 'text-generation');
});

test('sharded safetensors: parameters and dtypes summed over the shards of the index, equal to the config estimate', () => {
  const dir = `${CARD}/tiny-llama-ft`;
  const c = extractCard(dir);
  assert.equal(c.parameters?.value, 106_816);
  assert.equal(c.parameters?.estimate, undefined);
  assert.deepEqual(c.parameters?.sources.map((s) => s.file), ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
  assert.deepEqual(c.tensorDtypes?.value, { BF16: 106_816 });
  assert.equal(c.weightFiles.length, 2);
  assert.equal(c.weightFiles.reduce((a, f) => a + f.tensors, 0), 21);
  assert.equal(estimateParameters(json(`${dir}/config.json`)), 106_816, 'the Llama estimate is exact');
  assert.deepEqual(c.baseModel?.value, ['meta-llama/Meta-Llama-3-8B-Instruct']);
  assert.equal(c.baseModelRelation?.value, 'finetune');
  assert.deepEqual(c.datasets?.value, ['HuggingFaceH4/ultrachat_200k', 'Open-Orca/SlimOrca']);
  assert.deepEqual(c.license.license?.value, ['other']);
  assert.equal(c.license.licenseName?.value, 'llama3');
  assert.equal(c.license.licenseLink?.value, 'LICENSE');
  assert.deepEqual(c.language?.value, ['en', 'de']);
  assert.deepEqual(c.evalResults?.value, [{ task: 'text-generation', dataset: 'MMLU (5-shot)', metric: 'acc', value: '25.4' }]);
  // Two default templates (tokenizer_config.json and chat_template.jinja) with different text: both kept, flagged.
  assert.deepEqual(c.chatTemplates.map((t) => t.source.file), ['tokenizer_config.json', 'chat_template.jinja']);
  assert.equal(c.chatTemplates[1].sha256, sha(readFileSync(`${dir}/chat_template.jinja`)));
  assert.ok(c.warnings.some((w) => /more than one default chat template/.test(w)));
});

test('corpus BERT folder: safetensors header count, tokenizer.json vocabulary, the same template hash as a GGUF that carries it', () => {
  const c = extractCard(`${CORPUS}/hf_model_bert`);
  assert.equal(c.parameters?.value, 64);
  assert.deepEqual(c.parameters?.sources, [{ file: 'model.safetensors', key: 'header tensors: sum of shape products' }]);
  assert.deepEqual(c.tensorDtypes?.value, { F32: 64 });
  assert.equal(c.declaredDtype?.value, 'float32');
  assert.equal(c.tokenizer.vocabSize?.value, 16);
  assert.deepEqual(c.tokenizer.vocabSize?.sources[0], { file: 'tokenizer.json', key: 'model.vocab' });
  assert.equal(c.tokenizer.class?.value, 'WordLevel');
  assert.deepEqual(c.generationConfig?.value, { bos_token_id: 1, eos_token_id: 2, max_new_tokens: 64, do_sample: true });
  const g = extractCard(`${CORPUS}/gguf/chujiezheng-amberchat.gguf`);
  assert.equal(c.chatTemplates[0].sha256, g.chatTemplates[0].sha256);
  assert.equal(g.chatTemplates[0].source.key, 'tokenizer.chat_template');
});

test('corpus GGUF files: architecture, context length, tokenizer and a distinct template hash from the header', () => {
  const hashes = new Set<string>();
  for (const name of ['chat_template_ssti.gguf', 'chujiezheng-amberchat.gguf', 'chujiezheng-llama-2-chat.gguf', 'chujiezheng-qwen2_5-instruct.gguf', 'llama_cpp-llama-cpp-lfm2.gguf']) {
    const c = extractCard(`${CORPUS}/gguf/${name}`);
    assert.deepEqual(c.architectures?.value, ['llama'], name);
    assert.equal(c.contextLength?.value, 2048, name);
    assert.deepEqual(c.contextLength?.sources, [{ file: name, key: 'llama.context_length' }]);
    assert.equal(c.tokenizer.class?.value, 'llama');
    assert.equal(c.parameters?.value, 128);
    assert.equal(c.chatTemplates.length, 1, name);
    hashes.add(c.chatTemplates[0].sha256);
  }
  assert.equal(hashes.size, 5);
});

test('GGUF: file type, base models, special token ids, split files summed; a folder of alternatives uses the first', (t) => {
  const dir = tempDir(t);
  const kvs: KvSpec[] = [
    { key: 'general.architecture', type: GT.STRING, value: 'qwen2' },
    { key: 'general.name', type: GT.STRING, value: 'Qwen2.5 0.5B Instruct' },
    { key: 'general.file_type', type: GT.U32, value: 15 },
    { key: 'general.license', type: GT.STRING, value: 'apache-2.0' },
    { key: 'general.base_model.count', type: GT.U32, value: 1 },
    { key: 'general.base_model.0.name', type: GT.STRING, value: 'Qwen2.5 0.5B' },
    { key: 'general.base_model.0.repo_url', type: GT.STRING, value: 'https://huggingface.co/Qwen/Qwen2.5-0.5B' },
    { key: 'qwen2.context_length', type: GT.U32, value: 32768 },
    { key: 'tokenizer.ggml.model', type: GT.STRING, value: 'gpt2' },
    { key: 'tokenizer.ggml.tokens', type: GT.ARRAY, value: { array: GT.STRING, items: ['a', 'b', 'c', '<|im_end|>'] } },
    { key: 'tokenizer.ggml.eos_token_id', type: GT.U32, value: 3 },
    { key: 'tokenizer.chat_template', type: GT.STRING, value: '{% for m in messages %}{{ m.content }}{% endfor %}' },
    { key: 'tokenizer.chat_template.tool_use', type: GT.STRING, value: '{{ tools }}' },
  ];
  writeFileSync(join(dir, 'qwen-q4_k_m.gguf'), gguf(kvs, [{ name: 'token_embd.weight', dims: [8, 4] }, { name: 'output_norm.weight', dims: [8] }]));
  const c = extractCard(join(dir, 'qwen-q4_k_m.gguf'));
  assert.equal(c.name, 'Qwen2.5 0.5B Instruct');
  assert.equal(c.parameters?.value, 40);
  assert.deepEqual(c.tensorDtypes?.value, { F32: 40 });
  assert.equal(c.quantization?.value, 'Q4_K_M');
  assert.equal(c.contextLength?.value, 32768);
  assert.equal(c.tokenizer.vocabSize?.value, 4);
  assert.deepEqual(c.tokenizer.specialTokens?.value, { eos_token_id: 3 });
  assert.deepEqual(c.baseModel?.value, ['Qwen/Qwen2.5-0.5B']);
  assert.deepEqual(c.license.license?.value, ['apache-2.0']);
  assert.deepEqual(c.chatTemplates.map((x) => [x.name, x.sha256]), [
    ['default', sha('{% for m in messages %}{{ m.content }}{% endfor %}')],
    ['tool_use', sha('{{ tools }}')],
  ]);

  // Split files of one model add up; a second, unrelated GGUF is an alternative and is named in a warning.
  const split = tempDir(t);
  writeFileSync(join(split, 'm-00001-of-00002.gguf'), gguf(modelKvs('{{ x }}'), [{ name: 'a', dims: [8, 4] }]));
  writeFileSync(join(split, 'm-00002-of-00002.gguf'), gguf(modelKvs(), [{ name: 'b', dims: [16, 4] }]));
  writeFileSync(join(split, 'z-other.gguf'), gguf(modelKvs(), [{ name: 'a', dims: [2, 2] }]));
  const s = extractCard(split);
  assert.equal(s.parameters?.value, 96);
  assert.equal(s.weightFiles.length, 2);
  assert.ok(s.warnings.some((w) => /2 alternative GGUF files/.test(w)));
});

test('auto_map: repository code and cross-repository references are recorded with their file', (t) => {
  const c = extractCard(`${CORPUS}/hf_automap_subprocess`);
  assert.equal(c.autoMap.length, 1);
  assert.deepEqual(c.autoMap[0].entries, { AutoConfig: 'configuration_custom.CustomConfig', AutoModel: 'modeling_custom.CustomModel' });
  assert.deepEqual(c.autoMap[0].crossRepo, []);
  assert.deepEqual(c.autoMap[0].source, { file: 'config.json', key: 'auto_map' });

  const dir = tempDir(t);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'phi', auto_map: { AutoModelForCausalLM: 'microsoft/phi-1_5--modeling_phi.PhiForCausalLM' } }));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ auto_map: { AutoTokenizer: ['tokenization_x.XTokenizer', null] } }));
  const d = extractCard(dir);
  assert.deepEqual(d.autoMap.map((a) => [a.source.file, a.crossRepo]), [['config.json', ['microsoft/phi-1_5']], ['tokenizer_config.json', []]]);
  assert.equal(d.autoMap[1].entries.AutoTokenizer, 'tokenization_x.XTokenizer');
});

test('broken inputs become warnings, never a crash or a silent fact', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'config.json'), '{"architectures": ["X"], ');
  writeFileSync(join(dir, 'README.md'), '---\nlicense: [mit\n---\n# x\n');
  writeFileSync(join(dir, 'model.safetensors'), Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0x7b]));
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { a: 'model.safetensors', b: 'model-missing.safetensors' } }));
  const c = extractCard(dir);
  assert.equal(c.architectures, null);
  assert.equal(c.license.license, null);
  assert.equal(c.parameters, null);
  const text = c.warnings.join('\n');
  assert.match(text, /config\.json: not valid JSON/);
  assert.match(text, /README\.md: front matter is not valid YAML/);
  assert.match(text, /lists shard model-missing\.safetensors, which is not in the folder/);
  assert.match(text, /model\.safetensors: \d+ header problem/);
});

test('reads are bounded: a tokenizer.json over the limit is not read and is named', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ model: { type: 'BPE', vocab: { a: 0, b: 1 } } }));
  const saved = CARD_LIMITS.tokenizerBytes;
  CARD_LIMITS.tokenizerBytes = 10;
  try {
    const c = extractCard(dir);
    assert.equal(c.tokenizer.vocabSize, null);
    assert.match(c.warnings.join('\n'), /tokenizer\.json: \d+ bytes, larger than the 10-byte bound/);
  } finally {
    CARD_LIMITS.tokenizerBytes = saved;
  }
  assert.equal(extractCard(dir).tokenizer.vocabSize?.value, 2);
});

test('front matter: only a leading block is read; lists and strings both become lists', () => {
  const w: string[] = [];
  assert.deepEqual(parseFrontMatter('---\nbase_model:\n- a/b\n- c/d\nlicense: mit\n---\ntext', w), { base_model: ['a/b', 'c/d'], license: 'mit' });
  assert.equal(parseFrontMatter('# title\n---\nlicense: mit\n---\n', w), null);
  assert.deepEqual(w, []);
});

test('a model file inside an HF folder copy: config-free single files and missing paths', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'sub'));
  copyFileSync(`${CORPUS}/hf_model_bert/model.safetensors`, join(dir, 'sub', 'weights.safetensors'));
  const c = extractCard(join(dir, 'sub', 'weights.safetensors'));
  assert.equal(c.parameters?.value, 64);
  assert.equal(c.architectures, null);
  assert.throws(() => extractCard(join(dir, 'nope')), (e: unknown) => e instanceof ModelgateError && e.code === 'NOT_FOUND');
});

test('CLI: `card` prints sourced facts as text and as JSON; a missing path exits 2', () => {
  const text = runCli(['card', `${CARD}/llama3-8b-instruct`]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /parameters\s+~8\.03B \(8030261248\)\s+\(estimate from config\.json/);
  assert.match(text.stdout, /chat template\s+default sha256:[0-9a-f]{64} \(389 bytes\)\s+\(tokenizer_config\.json: chat_template\)/);
  const j = runCli(['card', `${CARD}/tiny-llama-ft`, '--json']);
  assert.equal(j.code, 0, j.stderr);
  const card = JSON.parse(j.stdout) as { schemaVersion: number; parameters: { value: number }; baseModel: { value: string[] } };
  assert.equal(card.schemaVersion, 1);
  assert.equal(card.parameters.value, 106_816);
  assert.deepEqual(card.baseModel.value, ['meta-llama/Meta-Llama-3-8B-Instruct']);
  const missing = runCli(['card', `${CARD}/does-not-exist`]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no such file or folder/);
});

test('an index wins over other safetensors in the folder (no double count); a PEFT adapter names its base model', (t) => {
  const dir = tempDir(t);
  for (const f of ['config.json', 'model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']) copyFileSync(`${CARD}/tiny-llama-ft/${f}`, join(dir, f));
  copyFileSync(`${CARD}/tiny-llama-ft/model-00001-of-00002.safetensors`, join(dir, 'consolidated.safetensors'));
  assert.equal(extractCard(dir).parameters?.value, 106_816);

  const peft = tempDir(t);
  writeFileSync(join(peft, 'adapter_config.json'), JSON.stringify({ base_model_name_or_path: 'mistralai/Mistral-7B-v0.1', peft_type: 'LORA', r: 16, target_modules: ['q_proj', 'v_proj'] }));
  copyFileSync(`${CORPUS}/hf_model_bert/model.safetensors`, join(peft, 'adapter_model.safetensors'));
  const c = extractCard(peft);
  assert.deepEqual(c.baseModel?.value, ['mistralai/Mistral-7B-v0.1']);
  assert.deepEqual(c.baseModel?.sources, [{ file: 'adapter_config.json', key: 'base_model_name_or_path' }]);
  assert.equal(c.baseModelRelation?.value, 'adapter');
  assert.equal(c.parameters?.value, 64);
  assert.equal(c.parameters?.sources[0].file, 'adapter_model.safetensors');
});
