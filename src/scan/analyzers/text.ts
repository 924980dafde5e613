// Text entries: configs (JSON/YAML), Python, notebooks, Jinja templates, model cards and other text.
// Decoded and parsed once; then every registered text check runs over it (templates, Keras/Hydra
// configs, remote code, secrets). Content decides it is text; the name picks the parser.
import { readAll } from '../../formats/source.ts';
import type { TextContext, TextKind } from '../checks/types.ts';
import type { Analyzer } from './types.ts';
import { MODEL_NAME } from '../names.ts';

/** Larger text files are listed but not read (model repositories' text is configs and code). */
const MAX_TEXT_BYTES = 32 << 20;

export function looksLikeText(head: Uint8Array): boolean {
  if (head.length === 0) return false;
  let bad = 0;
  for (const b of head) {
    if (b === 0) return false;
    if (b < 32 && b !== 9 && b !== 10 && b !== 13 && b !== 12) bad++;
  }
  if (bad > head.length / 100) return false;
  // Must decode as UTF-8 (allowing a character cut at the end of the head).
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head.length >= 4096 ? head.subarray(0, trimUtf8(head)) : head);
    return true;
  } catch {
    return false;
  }
}

function trimUtf8(b: Uint8Array): number {
  let end = b.length;
  for (let i = 0; i < 3 && end > 0 && (b[end - 1] & 0xc0) === 0x80; i++) end--;
  if (end > 0 && b[end - 1] >= 0xc0) end--;
  return end;
}

export function textKind(name: string, text: string): TextKind {
  const n = name.toLowerCase();
  if (/\.ipynb$/.test(n)) return 'notebook';
  if (/\.(json|jsonl)$/.test(n)) return 'json';
  if (/\.(ya?ml)$/.test(n)) return 'yaml';
  if (/\.(py|pyi|pyw)$/.test(n)) return 'python';
  if (/\.(jinja2?|j2)$/.test(n)) return 'jinja';
  if (/\.(md|markdown|rst)$/.test(n)) return 'markdown';
  const t = text.trimStart();
  if (t.startsWith('{') || t.startsWith('[')) return 'json';
  return 'text';
}

export const textAnalyzer: Analyzer = {
  id: 'text',
  version: 1,
  // A file that claims a binary model format is not read as text: it fails closed in the walker.
  detect: (head, entry) => entry.source.size <= MAX_TEXT_BYTES && !MODEL_NAME.test(entry.name) && looksLikeText(head),
  async analyze(entry, input) {
    // The checks (Python parser, Jinja parser, YAML) load on the first text file, not at start-up.
    const { TEXT_CHECKS, parseYaml } = await import('../checks/index.ts');
    const text = Buffer.from(readAll(entry.source)).toString('utf8');
    const name = (entry.name.split('/').pop() ?? entry.name).toLowerCase();
    const kind = textKind(name, text);
    entry.row.format = kind;
    const ctx: TextContext = { entry, input, name, kind, text };
    if (kind === 'json' || kind === 'notebook') {
      try {
        ctx.doc = JSON.parse(text);
      } catch {
        ctx.doc = undefined;
      }
    } else if (kind === 'yaml') {
      try {
        ctx.doc = parseYaml(text, { maxAliasCount: 1000, uniqueKeys: false, logLevel: 'silent' });
      } catch {
        ctx.doc = undefined;
      }
    }
    for (const check of TEXT_CHECKS) {
      input.checkTime();
      if (check.applies(ctx)) check.run(ctx);
    }
  },
};
