// The runtime record of a model folder: the facts an intake record keeps, each with where it came from.

/** Where a fact was read: a file of the model (relative to the model path) and the key inside it. */
export interface FactSource {
  file: string;
  key: string;
}

export interface Fact<T> {
  value: T;
  /** Every place the value was read from (a sharded checkpoint has one per shard). */
  sources: FactSource[];
  /** True when the value is computed from other facts rather than read (parameters from config dims). */
  estimate?: boolean;
}

export interface ChatTemplateFact {
  /** "default" for the unnamed template; otherwise the name (`tool_use`, `rag` …). */
  name: string;
  /** Hex SHA-256 of the template's UTF-8 text. */
  sha256: string;
  bytes: number;
  source: FactSource;
}

export interface AutoMapFact {
  /** Auto class → `module.Class` (or `org/repo--module.Class`); list values are joined with ", ". */
  entries: Record<string, string>;
  /** References that pull code from another repository (`org/repo--…`). */
  crossRepo: string[];
  source: FactSource;
}

export interface TokenizerFacts {
  class: Fact<string> | null;
  vocabSize: Fact<number> | null;
  /** Role → token text (or token id, from GGUF, which keeps ids only). */
  specialTokens: Fact<Record<string, string | number>> | null;
  modelMaxLength: Fact<number> | null;
}

export interface LicenseFacts {
  license: Fact<string[]> | null;
  licenseName: Fact<string> | null;
  licenseLink: Fact<string> | null;
}

export interface WeightFile {
  file: string;
  format: 'safetensors' | 'gguf';
  tensors: number;
  parameters: number;
  /** dtype → parameter count. */
  dtypes: Record<string, number>;
}

export interface EvalResult {
  task: string | null;
  dataset: string | null;
  metric: string;
  value: string;
}

export interface ModelCardRecord {
  schemaVersion: 1;
  /** The path as given. */
  path: string;
  /** A display name: GGUF `general.name`, else the folder or file name. */
  name: string;
  architectures: Fact<string[]> | null;
  modelType: Fact<string> | null;
  parameters: Fact<number> | null;
  /** Tensor dtype → parameter count, from weight headers. */
  tensorDtypes: Fact<Record<string, number>> | null;
  /** The dtype the config declares (`torch_dtype` / `dtype`). */
  declaredDtype: Fact<string> | null;
  /** Quantization method or GGUF file type, when declared. */
  quantization: Fact<string> | null;
  contextLength: Fact<number> | null;
  tokenizer: TokenizerFacts;
  chatTemplates: ChatTemplateFact[];
  baseModel: Fact<string[]> | null;
  /** `base_model_relation` (finetune, adapter, quantized, merge) when declared. */
  baseModelRelation: Fact<string> | null;
  datasets: Fact<string[]> | null;
  autoMap: AutoMapFact[];
  generationConfig: Fact<Record<string, unknown>> | null;
  license: LicenseFacts;
  pipelineTag: Fact<string> | null;
  libraryName: Fact<string> | null;
  language: Fact<string[]> | null;
  tags: Fact<string[]> | null;
  /** `model-index` results from the card front matter. */
  evalResults: Fact<EvalResult[]> | null;
  weightFiles: WeightFile[];
  /** What could not be read (too large, not JSON, a broken header …); never silent. */
  warnings: string[];
}
