// `extractCard()`: reads a model folder in the Hugging Face layout (or one GGUF/safetensors file) and
// returns the runtime facts an intake record keeps. It reads JSON configs, the README front matter and
// weight headers, each within a byte bound; it never loads weights and never runs repository code.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ModelgateError } from '../../scan/model.ts';
import type { GgufInfo, GgufValue } from '../../formats/gguf/index.ts';
import { estimateParameters } from './estimate.ts';
import type { AutoMapFact, ChatTemplateFact, EvalResult, Fact, FactSource, ModelCardRecord, TokenizerFacts, WeightFile } from './model.ts';
import { GGUF_FILE_TYPES, groupGguf, pickSafetensors, readGguf, readSafetensors } from './weights.ts';

type Json = Record<string, unknown>;

/** Byte bounds for what is read whole. tokenizer.json of a 256k-token vocabulary is ~35 MB. */
export const CARD_LIMITS = { configBytes: 16 << 20, tokenizerBytes: 64 << 20, readmeBytes: 4 << 20, templateBytes: 4 << 20 };

const fact = <T>(value: T, file: string, key: string, estimate = false): Fact<T> =>
  estimate ? { value, sources: [{ file, key }], estimate: true } : { value, sources: [{ file, key }] };

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const sha256 = (s: string | Uint8Array): string => createHash('sha256').update(s).digest('hex');

class Folder {
  readonly names: string[];
  readonly warnings: string[] = [];
  constructor(readonly dir: string, names: string[]) {
    this.names = names;
  }
  has(name: string): boolean {
    return this.names.includes(name);
  }
  /** The file's text when it exists and is within `max` bytes; a warning otherwise. */
  text(name: string, max: number): string | null {
    if (!this.has(name)) return null;
    const path = join(this.dir, name);
    const st = statSync(path);
    if (!st.isFile()) return null;
    if (st.size > max) {
      this.warnings.push(`${name}: ${st.size} bytes, larger than the ${max}-byte bound; not read`);
      return null;
    }
    return readFileSync(path, 'utf8');
  }
  json(name: string, max = CARD_LIMITS.configBytes): Json | null {
    const text = this.text(name, max);
    if (text === null) return null;
    try {
      const v = JSON.parse(text) as unknown;
      if (isObj(v)) return v;
      this.warnings.push(`${name}: not a JSON object`);
    } catch (e) {
      this.warnings.push(`${name}: not valid JSON (${(e as Error).message})`);
    }
    return null;
  }
}

function listFolder(path: string): Folder {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new ModelgateError('NOT_FOUND', `${path}: no such file or folder`);
  }
  if (st.isDirectory()) return new Folder(path, readdirSync(path).sort());
  if (st.isFile()) return new Folder(dirname(path), [basename(path)]);
  throw new ModelgateError('NOT_FOUND', `${path}: neither a file nor a folder`);
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const strList = (v: unknown): string[] | null => {
  if (typeof v === 'string' && v.length > 0) return [v];
  if (Array.isArray(v)) {
    const out = v.filter((x): x is string => typeof x === 'string' && x.length > 0);
    return out.length > 0 ? out : null;
  }
  return null;
};
const posInt = (v: unknown): number | null => (typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : null);

/** README.md YAML front matter (between the leading `---` lines), parsed with a bounded alias count. */
export function parseFrontMatter(text: string, warnings: string[], file = 'README.md'): Json | null {
  const m = /^\uFEFF?---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/.exec(text);
  if (!m) return null;
  try {
    const v = parseYaml(m[1], { maxAliasCount: 100, uniqueKeys: false }) as unknown;
    if (isObj(v)) return v;
    if (v !== null && v !== undefined) warnings.push(`${file}: front matter is not a mapping`);
  } catch (e) {
    warnings.push(`${file}: front matter is not valid YAML (${(e as Error).message.split('\n')[0]})`);
  }
  return null;
}

function modelIndexResults(v: unknown): EvalResult[] {
  const out: EvalResult[] = [];
  if (!Array.isArray(v)) return out;
  for (const model of v) {
    if (!isObj(model) || !Array.isArray(model.results)) continue;
    for (const r of model.results) {
      if (!isObj(r) || !Array.isArray(r.metrics)) continue;
      const task = isObj(r.task) ? str(r.task.type) ?? str(r.task.name) : null;
      const dataset = isObj(r.dataset) ? str(r.dataset.name) ?? str(r.dataset.type) : null;
      for (const m of r.metrics) {
        if (!isObj(m) || m.value === undefined || m.value === null || out.length >= 200) continue;
        const metric = str(m.type) ?? str(m.name);
        if (metric) out.push({ task, dataset, metric, value: String(m.value) });
      }
    }
  }
  return out;
}

/** A special token in tokenizer_config.json is a string or an AddedToken object with `content`. */
function tokenText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (isObj(v) && typeof v.content === 'string') return v.content;
  return null;
}

const SPECIAL_ROLES = ['bos_token', 'eos_token', 'unk_token', 'pad_token', 'sep_token', 'cls_token', 'mask_token'];
/** transformers' VERY_LARGE_INTEGER: "no limit" written as a number. */
const NO_LIMIT = 1e15;

function autoMapOf(obj: Json | null, file: string): AutoMapFact | null {
  if (!obj || !isObj(obj.auto_map)) return null;
  const entries: Record<string, string> = {};
  const crossRepo = new Set<string>();
  for (const [k, v] of Object.entries(obj.auto_map)) {
    const refs = strList(v) ?? [];
    if (refs.length === 0) continue;
    entries[k] = refs.join(', ');
    for (const r of refs) if (r.includes('--')) crossRepo.add(r.split('--')[0]);
  }
  return Object.keys(entries).length > 0 ? { entries, crossRepo: [...crossRepo].sort(), source: { file, key: 'auto_map' } } : null;
}

function ggufKvs(info: GgufInfo): Map<string, GgufValue> {
  return new Map(info.kvs.map((k) => [k.key, k.value]));
}

/** Scalars and flat arrays of scalars only: generation_config.json is recorded, not interpreted. */
function scalarEntries(obj: Json): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) out[k] = typeof v === 'string' && v.length > 1000 ? `${v.slice(0, 1000)}…` : v;
    else if (Array.isArray(v) && v.length <= 1000 && v.every((x) => x === null || ['string', 'number', 'boolean'].includes(typeof x))) out[k] = v;
  }
  return out;
}

export function extractCard(path: string): ModelCardRecord {
  const folder = listFolder(path);
  const w = folder.warnings;
  const card: ModelCardRecord = {
    schemaVersion: 1, path, name: basename(resolve(path)) || path,
    architectures: null, modelType: null, parameters: null, tensorDtypes: null, declaredDtype: null, quantization: null,
    contextLength: null, tokenizer: { class: null, vocabSize: null, specialTokens: null, modelMaxLength: null },
    chatTemplates: [], baseModel: null, baseModelRelation: null, datasets: null, autoMap: [], generationConfig: null,
    license: { license: null, licenseName: null, licenseLink: null }, pipelineTag: null, libraryName: null, language: null,
    tags: null, evalResults: null, weightFiles: [], warnings: w,
  };

  // config.json: architecture, context, dtype, quantization. Multimodal configs nest the LM in text_config.
  const config = folder.json('config.json');
  if (config) {
    const text = isObj(config.text_config) ? config.text_config : null;
    const archs = strList(config.architectures);
    if (archs) card.architectures = fact(archs, 'config.json', 'architectures');
    const mt = str(config.model_type);
    if (mt) card.modelType = fact(mt, 'config.json', 'model_type');
    for (const key of ['torch_dtype', 'dtype']) {
      const d = str(config[key]) ?? (text ? str(text[key]) : null);
      if (d) {
        card.declaredDtype = fact(d, 'config.json', str(config[key]) ? key : `text_config.${key}`);
        break;
      }
    }
    for (const key of ['max_position_embeddings', 'n_positions', 'seq_length', 'max_seq_len', 'max_sequence_length', 'n_ctx']) {
      const top = posInt(config[key]);
      const nested = text ? posInt(text[key]) : null;
      if (top ?? nested) {
        card.contextLength = fact((top ?? nested)!, 'config.json', top ? key : `text_config.${key}`);
        break;
      }
    }
    if (isObj(config.quantization_config)) {
      const q = config.quantization_config;
      const method = str(q.quant_method) ?? (q.load_in_4bit === true ? 'bitsandbytes-4bit' : q.load_in_8bit === true ? 'bitsandbytes-8bit' : null);
      const bits = posInt(q.bits);
      if (method) card.quantization = fact(bits ? `${method} ${bits}-bit` : method, 'config.json', 'quantization_config.quant_method');
    }
  }

  // Tokenizer: class, limits and special tokens from tokenizer_config.json (special_tokens_map.json as
  // fallback), vocabulary from tokenizer.json.
  const tokConfig = folder.json('tokenizer_config.json');
  const tok: TokenizerFacts = card.tokenizer;
  if (tokConfig) {
    const cls = str(tokConfig.tokenizer_class);
    if (cls) tok.class = fact(cls, 'tokenizer_config.json', 'tokenizer_class');
    const maxLen = typeof tokConfig.model_max_length === 'number' && tokConfig.model_max_length < NO_LIMIT ? posInt(tokConfig.model_max_length) : null;
    if (maxLen) tok.modelMaxLength = fact(maxLen, 'tokenizer_config.json', 'model_max_length');
  }
  const specialFrom = (obj: Json | null, file: string): void => {
    if (!obj || tok.specialTokens) return;
    const roles: Record<string, string> = {};
    for (const role of SPECIAL_ROLES) {
      const t = tokenText(obj[role]);
      if (t !== null) roles[role] = t;
    }
    if (Object.keys(roles).length > 0) tok.specialTokens = { value: roles, sources: Object.keys(roles).map((k) => ({ file, key: k })) };
  };
  specialFrom(tokConfig, 'tokenizer_config.json');
  specialFrom(folder.json('special_tokens_map.json'), 'special_tokens_map.json');

  const tokJson = folder.json('tokenizer.json', CARD_LIMITS.tokenizerBytes);
  if (tokJson && isObj(tokJson.model)) {
    const model = tokJson.model;
    const vocab = model.vocab;
    const ids = new Set<number>();
    if (isObj(vocab)) for (const v of Object.values(vocab)) if (typeof v === 'number') ids.add(v);
    let size = isObj(vocab) ? ids.size : Array.isArray(vocab) ? vocab.length : 0;
    const added = Array.isArray(tokJson.added_tokens) ? tokJson.added_tokens : [];
    for (const a of added) if (isObj(a) && typeof a.id === 'number' && !ids.has(a.id) && !(Array.isArray(vocab) && a.id < vocab.length)) size++;
    if (size > 0) tok.vocabSize = { value: size, sources: [{ file: 'tokenizer.json', key: 'model.vocab' }, ...(added.length ? [{ file: 'tokenizer.json', key: 'added_tokens' }] : [])] };
    if (!tok.class && str(model.type)) tok.class = fact(str(model.type)!, 'tokenizer.json', 'model.type');
  }
  if (!tok.vocabSize && config && posInt(config.vocab_size)) tok.vocabSize = fact(posInt(config.vocab_size)!, 'config.json', 'vocab_size');

  // Chat templates: tokenizer_config.json (a string or a list of named templates), chat_template.jinja,
  // chat_template.json (processors), additional_chat_templates/*.jinja.
  const addTemplate = (name: string, text: string, source: FactSource): void => {
    card.chatTemplates.push({ name, sha256: sha256(text), bytes: Buffer.byteLength(text), source });
  };
  if (tokConfig) {
    const t = tokConfig.chat_template;
    if (typeof t === 'string') addTemplate('default', t, { file: 'tokenizer_config.json', key: 'chat_template' });
    else if (Array.isArray(t)) {
      t.forEach((e, i) => {
        if (isObj(e) && typeof e.template === 'string') addTemplate(str(e.name) ?? `#${i}`, e.template, { file: 'tokenizer_config.json', key: `chat_template[${i}].template` });
      });
    }
  }
  const jinja = folder.text('chat_template.jinja', CARD_LIMITS.templateBytes);
  if (jinja !== null) addTemplate('default', jinja, { file: 'chat_template.jinja', key: '(file)' });
  const ctJson = folder.json('chat_template.json', CARD_LIMITS.templateBytes);
  if (ctJson && typeof ctJson.chat_template === 'string') addTemplate('default', ctJson.chat_template, { file: 'chat_template.json', key: 'chat_template' });
  if (folder.has('additional_chat_templates')) {
    const sub = join(folder.dir, 'additional_chat_templates');
    if (statSync(sub).isDirectory()) {
      for (const n of readdirSync(sub).filter((x) => x.endsWith('.jinja')).sort()) {
        const p = join(sub, n);
        if (statSync(p).isFile() && statSync(p).size <= CARD_LIMITS.templateBytes) addTemplate(n.slice(0, -6), readFileSync(p, 'utf8'), { file: `additional_chat_templates/${n}`, key: '(file)' });
      }
    }
  }

  const defaults = new Set(card.chatTemplates.filter((t) => t.name === 'default').map((t) => t.sha256));
  if (defaults.size > 1) w.push('more than one default chat template with different text; a loader picks one (transformers prefers chat_template.jinja)');

  // auto_map: repository code a loader would import with trust_remote_code.
  const configs: Array<[string, Json | null]> = [['config.json', config], ['tokenizer_config.json', tokConfig]];
  for (const n of ['preprocessor_config.json', 'processor_config.json', 'feature_extractor_config.json', 'image_processor_config.json', 'video_preprocessor_config.json']) {
    if (folder.has(n)) configs.push([n, folder.json(n)]);
  }
  for (const [file, obj] of configs) {
    const a = autoMapOf(obj, file);
    if (a) card.autoMap.push(a);
  }

  const gen = folder.json('generation_config.json');
  if (gen) card.generationConfig = fact(scalarEntries(gen), 'generation_config.json', '*');

  // The model card's front matter: license, lineage, datasets, task.
  const readmeName = ['README.md', 'readme.md', 'README'].find((n) => folder.has(n));
  const readme = readmeName ? folder.text(readmeName, CARD_LIMITS.readmeBytes) : null;
  const fm = readme !== null && readmeName ? parseFrontMatter(readme, w, readmeName) : null;
  if (fm && readmeName) {
    const r = readmeName;
    const lic = strList(fm.license);
    if (lic) card.license.license = fact(lic, r, 'license');
    if (str(fm.license_name)) card.license.licenseName = fact(str(fm.license_name)!, r, 'license_name');
    if (str(fm.license_link)) card.license.licenseLink = fact(str(fm.license_link)!, r, 'license_link');
    const base = strList(fm.base_model);
    if (base) card.baseModel = fact(base, r, 'base_model');
    if (str(fm.base_model_relation)) card.baseModelRelation = fact(str(fm.base_model_relation)!, r, 'base_model_relation');
    const ds = strList(fm.datasets);
    if (ds) card.datasets = fact(ds, r, 'datasets');
    if (str(fm.pipeline_tag)) card.pipelineTag = fact(str(fm.pipeline_tag)!, r, 'pipeline_tag');
    if (str(fm.library_name)) card.libraryName = fact(str(fm.library_name)!, r, 'library_name');
    const lang = strList(fm.language);
    if (lang) card.language = fact(lang, r, 'language');
    const tags = strList(fm.tags);
    if (tags) card.tags = fact(tags, r, 'tags');
    const evals = modelIndexResults(fm['model-index']);
    if (evals.length > 0) card.evalResults = fact(evals, r, 'model-index');
  }

  // A PEFT adapter names its base model in adapter_config.json when the card does not.
  const adapter = folder.json('adapter_config.json');
  if (adapter && !card.baseModel && str(adapter.base_model_name_or_path)) {
    card.baseModel = fact([str(adapter.base_model_name_or_path)!], 'adapter_config.json', 'base_model_name_or_path');
    if (!card.baseModelRelation) card.baseModelRelation = fact('adapter', 'adapter_config.json', 'peft_type');
  }

  weights(card, folder, config);
  return card;
}

/** Parameters and dtypes from safetensors headers, else GGUF tensor infos, else an estimate from config. */
function weights(card: ModelCardRecord, folder: Folder, config: Json | null): void {
  const w = folder.warnings;
  const indexName = folder.has('model.safetensors.index.json')
    ? 'model.safetensors.index.json'
    : folder.names.find((n) => n.endsWith('.safetensors.index.json')) ?? null;
  const index = indexName ? folder.json(indexName) : null;
  const { shards, warnings } = pickSafetensors(folder.dir, folder.names, index, indexName);
  w.push(...warnings);
  const st = shards.map((s) => readSafetensors(folder.dir, s, w)).filter((x): x is WeightFile => x !== null);
  if (st.length > 0) {
    card.weightFiles.push(...st);
    setCounts(card, st, 'header tensors: sum of shape products');
    return;
  }

  const groups = groupGguf(folder.names);
  if (groups.length > 0) {
    if (groups.length > 1) w.push(`${groups.length} alternative GGUF files; facts are from ${groups[0][0]}`);
    const reads = groups[0].map((n) => readGguf(folder.dir, n, w)).filter((x) => x !== null);
    if (reads.length > 0) {
      card.weightFiles.push(...reads.map((r) => r.weight));
      setCounts(card, reads.map((r) => r.weight), 'tensor infos: product of dims');
      ggufFacts(card, reads[0].info, reads[0].weight.file);
      return;
    }
  }

  if (config) {
    const est = estimateParameters(config);
    if (est !== null) {
      const keys = ['vocab_size', 'hidden_size', 'n_embd', 'd_model', 'num_hidden_layers', 'n_layer', 'num_layers', 'intermediate_size', 'n_inner', 'num_attention_heads', 'n_head', 'num_key_value_heads', 'max_position_embeddings', 'n_positions'].filter((k) => k in config);
      card.parameters = { value: est, sources: keys.map((k) => ({ file: 'config.json', key: k })), estimate: true };
    }
  }
}

function setCounts(card: ModelCardRecord, files: WeightFile[], key: string): void {
  const dtypes: Record<string, number> = {};
  for (const f of files) for (const [d, n] of Object.entries(f.dtypes)) dtypes[d] = (dtypes[d] ?? 0) + n;
  const sources = files.map((f) => ({ file: f.file, key }));
  card.parameters = { value: files.reduce((a, f) => a + f.parameters, 0), sources };
  card.tensorDtypes = { value: dtypes, sources };
}

function ggufFacts(card: ModelCardRecord, info: GgufInfo, file: string): void {
  const kv = ggufKvs(info);
  const s = (key: string): string | null => str(kv.get(key));
  const n = (key: string): number | null => {
    const v = kv.get(key);
    return typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : null;
  };
  const arch = s('general.architecture');
  if (s('general.name')) card.name = s('general.name')!;
  if (arch && !card.architectures) card.architectures = fact([arch], file, 'general.architecture');
  if (arch && !card.modelType) card.modelType = fact(arch, file, 'general.architecture');
  if (arch && !card.contextLength && posInt(n(`${arch}.context_length`))) card.contextLength = fact(n(`${arch}.context_length`)!, file, `${arch}.context_length`);
  const ft = n('general.file_type');
  if (ft !== null && !card.quantization) card.quantization = fact(GGUF_FILE_TYPES.get(ft) ?? `file_type ${ft}`, file, 'general.file_type');

  const tok = card.tokenizer;
  if (!tok.class && s('tokenizer.ggml.model')) tok.class = fact(s('tokenizer.ggml.model')!, file, 'tokenizer.ggml.model');
  const tokens = kv.get('tokenizer.ggml.tokens');
  if (!tok.vocabSize && typeof tokens === 'object' && tokens !== null) tok.vocabSize = fact(tokens.count, file, 'tokenizer.ggml.tokens');
  if (!tok.specialTokens) {
    const roles: Record<string, number> = {};
    const sources: FactSource[] = [];
    for (const role of ['bos', 'eos', 'unknown', 'padding', 'seperator', 'separator', 'cls', 'mask', 'eot']) {
      const key = `tokenizer.ggml.${role}_token_id`;
      const id = n(key);
      if (id !== null) {
        roles[`${role}_token_id`] = id;
        sources.push({ file, key });
      }
    }
    if (sources.length > 0) tok.specialTokens = { value: roles, sources };
  }
  if (card.chatTemplates.length === 0) {
    for (const k of info.kvs) {
      if ((k.key === 'tokenizer.chat_template' || k.key.startsWith('tokenizer.chat_template.')) && typeof k.value === 'string') {
        const name = k.key === 'tokenizer.chat_template' ? 'default' : k.key.slice('tokenizer.chat_template.'.length);
        card.chatTemplates.push({ name, sha256: sha256(k.value), bytes: Buffer.byteLength(k.value), source: { file, key: k.key } });
      }
    }
  }
  if (!card.license.license && s('general.license')) card.license.license = fact([s('general.license')!], file, 'general.license');
  if (!card.baseModel) {
    const count = n('general.base_model.count') ?? 0;
    const bases: string[] = [];
    for (let i = 0; i < Math.min(count, 16); i++) {
      const repo = s(`general.base_model.${i}.repo_url`);
      const org = s(`general.base_model.${i}.organization`);
      const name = s(`general.base_model.${i}.name`);
      const id = repo ? repo.replace(/^https:\/\/huggingface\.co\//, '') : name ? (org ? `${org}/${name}` : name) : null;
      if (id) bases.push(id);
    }
    if (bases.length > 0) card.baseModel = fact(bases, file, 'general.base_model.*');
  }
}

