// GGUF: the header is parsed (never the tensor data); every chat template in the metadata is checked
// as the Jinja a loader will render; structural anomalies that loaders disagree on are reported.
import { FormatError } from '../../formats/errors.ts';
import { GGUF_VALUE_TYPES, isGguf, parseGguf, type GgufProblem } from '../../formats/gguf/index.ts';
import type { Entry, InputScan } from '../context.ts';
import type { Analyzer } from './types.ts';

/** `tokenizer.chat_template` and its named variants (`tokenizer.chat_template.tool_use`…). */
const TEMPLATE_KEY = /^tokenizer\.chat_template(\..+)?$/;

function reportProblem(entry: Entry, input: InputScan, p: GgufProblem): void {
  const high = p.kind === 'out-of-bounds';
  input.report(entry, {
    ruleId: high ? 'MG-GGUF-001' : 'MG-GGUF-002',
    severity: p.kind === 'trailing-bytes' ? 'low' : undefined,
    offset: p.offset,
    message: `GGUF ${p.kind}: ${p.detail}.`,
    evidence: { kind: p.kind },
  });
}

export const ggufAnalyzer: Analyzer = {
  id: 'gguf',
  version: 1,
  detect: (head) => isGguf(head),
  async analyze(entry, input) {
    const info = parseGguf(entry.source, { maxHeaderBytes: input.limits.maxHeaderBytes, tick: () => input.checkTime() });
    // Templates first: metadata read before a break is still what a lenient loader would render.
    const templates: string[] = [];
    // The Jinja parser loads only when a GGUF file is scanned.
    const { reportTemplate } = await import('../templates.ts');
    for (const kv of info.kvs) {
      if (!TEMPLATE_KEY.test(kv.key)) continue;
      if (typeof kv.value !== 'string') {
        input.report(entry, { ruleId: 'MG-GGUF-002', offset: kv.offset, message: `GGUF metadata "${kv.key}" is a ${GGUF_VALUE_TYPES[kv.type]}, not a string; loaders expecting a template will fail or skip it.`, evidence: { key: kv.key } });
        continue;
      }
      templates.push(kv.key);
      input.checkTime();
      reportTemplate(input, entry, kv.value, { path: `${entry.path}!${kv.key}`, key: kv.key, offset: kv.valueOffset });
    }
    for (const p of info.problems) reportProblem(entry, input, p);
    if (info.error instanceof FormatError) {
      entry.row.status = 'error';
      input.report(entry, { ruleId: 'MG-GGUF-001', offset: info.error.offset, message: `Could not read this GGUF file: ${info.error.message}.`, evidence: { code: info.error.code, version: info.version } });
      return;
    }
    if (info.error) throw info.error; // a LimitError: the walker reports the budget and fails closed
    const meta = (key: string): string | null => {
      const v = info.kvs.find((kv) => kv.key === key)?.value;
      return typeof v === 'string' ? v.slice(0, 120) : null;
    };
    input.report(entry, {
      ruleId: 'MG-GGUF-003',
      message: `GGUF v${info.version} (${info.littleEndian ? 'little' : 'big'}-endian), ${info.tensors.length} tensors, ${info.kvs.length} metadata entries${templates.length ? `, ${templates.length} chat template(s) checked` : ''}.`,
      evidence: {
        version: info.version,
        byteOrder: info.littleEndian ? 'little' : 'big',
        architecture: meta('general.architecture'),
        name: meta('general.name'),
        tensors: info.tensors.length,
        metadata: info.kvs.length,
        alignment: info.alignment,
        chatTemplates: templates,
      },
    });
  },
};

export const ggufAnalyzers: Analyzer[] = [ggufAnalyzer];
