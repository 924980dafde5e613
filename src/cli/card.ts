import type { Command } from 'commander';
import { extractCard, renderCardText } from '../provenance/card/index.ts';

const HELP_AFTER = `
What is read (nothing is loaded or run; each file within a byte bound):
  config.json            architectures, model_type, torch_dtype, context length, quantization, auto_map
  tokenizer_config.json  tokenizer class, special tokens, model_max_length, chat_template, auto_map
  tokenizer.json         vocabulary size
  chat_template.jinja    chat template (SHA-256 of its text)
  generation_config.json generation defaults
  README.md front matter license, license_name, license_link, base_model, datasets, pipeline_tag, language
  *.safetensors headers  parameter count and dtypes (the shards of model.safetensors.index.json)
  *.gguf header          parameter count, tensor types, context length, tokenizer, chat template
Without weight headers the parameter count is estimated from config dimensions and marked as such.
Every fact names the file and key it came from.

Exit codes:
  0  facts extracted (warnings, if any, are listed)
  2  the path does not exist or cannot be read

Examples:
  modelgate card ./Meta-Llama-3-8B-Instruct/
  modelgate card model-Q4_K_M.gguf --json | jq .parameters`;

export function registerCard(program: Command): void {
  program
    .command('card')
    .description('Extract the runtime facts of a model (architecture, parameters, dtypes, context, tokenizer, chat template, lineage, license)')
    .argument('<path>', 'a model folder (Hugging Face layout) or one .gguf / .safetensors file')
    .option('--json', 'print the record as JSON (schemaVersion 1)')
    .addHelpText('after', HELP_AFTER)
    .action((path: string, flags: { json?: boolean }) => {
      const card = extractCard(path);
      process.stdout.write(flags.json ? `${JSON.stringify(card, null, 2)}\n` : renderCardText(card));
    });
}
