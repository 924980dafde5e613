// Parameter count from config dimensions, for folders that ship no weight headers. Biases and norms are
// counted only where they matter at small sizes; the result is labelled an estimate by the caller.

type Config = Record<string, unknown>;

function num(c: Config, ...keys: string[]): number | null {
  for (const k of keys) {
    const v = c[k];
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  }
  return null;
}

/** Families whose MLP is gated (gate, up and down projections: three matrices instead of two). */
const GATED = /^(llama|mistral|mixtral|qwen2|qwen2_moe|qwen3|qwen3_moe|gemma|gemma2|gemma3|gemma3_text|phi3|olmo|olmo2|deepseek|deepseek_v2|deepseek_v3|granite|cohere|starcoder2_gated|internlm2|yi|baichuan|exaone|smollm3|glm|glm4)$/;
/** Families with learned absolute position embeddings of `max_position_embeddings` rows. */
const ABSOLUTE_POSITIONS = /^(bert|roberta|xlm-roberta|distilbert|electra|gpt2|gpt_bigcode|opt|camembert|deberta|albert|bart|mbart|whisper)$/;
/** Encoders with token-type embeddings and a pooler. */
const BERT_LIKE = /^(bert|roberta|xlm-roberta|camembert|electra)$/;

/** Returns null when the config lacks the dimensions a transformer estimate needs. */
export function estimateParameters(config: Config): number | null {
  const cfg = typeof config.text_config === 'object' && config.text_config !== null && num(config, 'hidden_size', 'n_embd', 'd_model') === null
    ? (config.text_config as Config)
    : config;
  const h = num(cfg, 'hidden_size', 'n_embd', 'd_model');
  const layers = num(cfg, 'num_hidden_layers', 'n_layer', 'num_layers');
  const vocab = num(cfg, 'vocab_size');
  if (h === null || layers === null || vocab === null || h === 0) return null;
  const modelType = typeof cfg.model_type === 'string' ? cfg.model_type : String(config.model_type ?? '');
  const heads = num(cfg, 'num_attention_heads', 'n_head') ?? 1;
  const kvHeads = num(cfg, 'num_key_value_heads') ?? heads;
  const headDim = num(cfg, 'head_dim') ?? h / heads;
  const inter = num(cfg, 'intermediate_size', 'n_inner', 'ffn_dim') ?? 4 * h;
  const act = String(cfg.hidden_act ?? cfg.activation_function ?? '');
  const gated = GATED.test(modelType) || /swiglu|geglu/.test(act);

  const attention = h * heads * headDim + 2 * h * kvHeads * headDim + heads * headDim * h;
  const experts = num(cfg, 'num_local_experts', 'num_experts', 'n_routed_experts');
  const expertInter = num(cfg, 'moe_intermediate_size') ?? inter;
  const mlpOne = (gated ? 3 : 2) * h * expertInter;
  const mlp = experts && experts > 1 ? experts * mlpOne + h * experts : (gated ? 3 : 2) * h * inter;
  // Gated (Llama-style) blocks have two weight-only RMSNorms; older blocks two LayerNorms with biases.
  const norms = gated ? 2 * h : 4 * h;
  let total = layers * (attention + mlp + norms);

  total += vocab * h; // token embeddings
  const positions = num(cfg, 'max_position_embeddings', 'n_positions');
  if (ABSOLUTE_POSITIONS.test(modelType) && positions !== null) total += positions * h;
  if (BERT_LIKE.test(modelType)) total += (num(cfg, 'type_vocab_size') ?? 2) * h + h * h + h;
  // transformers' PretrainedConfig ties input and output embeddings unless the config says otherwise.
  if (cfg.tie_word_embeddings === false || config.tie_word_embeddings === false) total += vocab * h;
  total += gated ? h : 2 * h; // final norm
  return Math.round(total);
}
