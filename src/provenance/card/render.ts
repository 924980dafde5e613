// Human text for `modelgate card`: one fact a line, with where it came from.
import type { Fact, ModelCardRecord } from './model.ts';

function where<T>(f: Fact<T>): string {
  const files = [...new Set(f.sources.map((s) => s.file))];
  const keys = [...new Set(f.sources.map((s) => s.key))];
  const from = files.length > 2 ? `${files.length} files` : files.join(', ');
  return `  (${f.estimate ? 'estimate from ' : ''}${from}: ${keys.length > 3 ? `${keys.slice(0, 3).join(', ')}, …` : keys.join(', ')})`;
}

export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}

export function renderCardText(card: ModelCardRecord): string {
  const lines: string[] = [`${card.name}  (${card.path})`];
  const row = <T>(label: string, f: Fact<T> | null, show: (v: T) => string): void => {
    if (f) lines.push(`  ${label.padEnd(18)}${show(f.value)}${where(f)}`);
  };
  const list = (v: string[]): string => v.join(', ');
  const id = (v: string): string => v;
  row('architecture', card.architectures, list);
  row('model type', card.modelType, id);
  row('parameters', card.parameters, (n) => `${card.parameters?.estimate ? '~' : ''}${formatCount(n)} (${n})`);
  row('tensor dtypes', card.tensorDtypes, (d) => Object.entries(d).map(([k, n]) => `${k} ${formatCount(n)}`).join(', '));
  row('declared dtype', card.declaredDtype, id);
  row('quantization', card.quantization, id);
  row('context length', card.contextLength, String);
  row('tokenizer', card.tokenizer.class, id);
  row('vocabulary', card.tokenizer.vocabSize, String);
  row('max length', card.tokenizer.modelMaxLength, String);
  row('special tokens', card.tokenizer.specialTokens, (v) => Object.entries(v).map(([k, t]) => `${k}=${JSON.stringify(t)}`).join(' '));
  for (const t of card.chatTemplates) lines.push(`  ${'chat template'.padEnd(18)}${t.name} sha256:${t.sha256} (${t.bytes} bytes)  (${t.source.file}: ${t.source.key})`);
  row('base model', card.baseModel, list);
  row('relation', card.baseModelRelation, id);
  row('datasets', card.datasets, list);
  for (const a of card.autoMap) {
    const entries = Object.entries(a.entries).map(([k, v]) => `${k}→${v}`).join(', ');
    lines.push(`  ${'auto_map'.padEnd(18)}${entries}${a.crossRepo.length ? ` [code from other repos: ${a.crossRepo.join(', ')}]` : ''}  (${a.source.file}: auto_map)`);
  }
  row('generation', card.generationConfig, (g) => Object.entries(g).filter(([k]) => !k.startsWith('_') && k !== 'transformers_version').map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' '));
  row('license', card.license.license, list);
  row('license name', card.license.licenseName, id);
  row('license link', card.license.licenseLink, id);
  row('pipeline tag', card.pipelineTag, id);
  row('library', card.libraryName, id);
  row('language', card.language, list);
  row('evaluations', card.evalResults, (r) => r.map((e) => `${e.metric}=${e.value}${e.dataset ? ` on ${e.dataset}` : ''}`).join('; '));
  if (lines.length === 1) lines.push('  no model facts found (no config.json, README front matter or weight headers)');
  for (const w of card.warnings) lines.push(`  warning: ${w}`);
  return `${lines.join('\n')}\n`;
}
