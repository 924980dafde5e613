// Walks one input: identifies each entry by content, dispatches it to its analyzer, recurses into
// archive members under the budgets, and turns every failure into a finding and an `error` status.
import { basename } from 'node:path';
import { FormatError, LimitError } from '../formats/errors.ts';
import { FileSource, type ByteSource } from '../formats/source.ts';
import { ANALYZERS, type Walk } from './analyzers/index.ts';
import { PICKLE_NAME } from './analyzers/weights.ts';
import { DEFAULT_LIMITS, InputScan, sha256Of, type Entry, type ScanLimits } from './context.ts';
import type { FileReport } from './model.ts';
import { CONFIG_NAME, MODEL_NAME } from './names.ts';


export interface InputOptions {
  limits?: Partial<ScanLimits>;
  /** Hash archive members (the top-level file is hashed by the caller, possibly on another thread). */
  hash: boolean;
}

export async function scanFile(path: string, displayPath: string, options: InputOptions): Promise<FileReport[]> {
  const input = new InputScan({ ...DEFAULT_LIMITS, ...options.limits }, options.hash);
  let src: FileSource;
  try {
    src = new FileSource(path);
  } catch (e) {
    const row = input.newRow(displayPath, 0);
    row.status = 'error';
    const entry: Entry = { path: displayPath, name: basename(path), source: { size: 0, read: () => new Uint8Array(0) }, depth: 0, row };
    input.report(entry, { ruleId: 'MG-ARC-002', message: `File could not be opened: ${(e as Error).message}.` });
    return input.rows;
  }
  const row = input.newRow(displayPath, src.size);
  try {
    await scanEntry({ path: displayPath, name: basename(path), source: src, depth: 0, row }, input);
  } finally {
    src.close();
  }
  return input.rows;
}

/** Scans bytes already in memory (tests, the server) with the same machinery. */
export async function scanSource(source: ByteSource, displayPath: string, options: InputOptions): Promise<FileReport[]> {
  const input = new InputScan({ ...DEFAULT_LIMITS, ...options.limits }, options.hash);
  const row = input.newRow(displayPath, source.size);
  if (options.hash) row.sha256 = sha256Of(source);
  await scanEntry({ path: displayPath, name: basename(displayPath), source, depth: 0, row }, input);
  return input.rows;
}

async function scanEntry(entry: Entry, input: InputScan): Promise<void> {
  const walk: Walk = async (parent, name, source) => {
    const path = `${parent.path}!${name}`;
    const row = input.newRow(path, source.size);
    const child: Entry = { path, name, source, depth: parent.depth + 1, row };
    if (child.depth > input.limits.maxDepth) {
      row.status = 'error';
      input.report(child, { ruleId: 'MG-LIM-001', message: `Archives nested deeper than ${input.limits.maxDepth} levels were not opened.`, evidence: { limit: 'depth' } });
      return;
    }
    if (input.hash) row.sha256 = sha256Of(source);
    await scanEntry(child, input);
  };

  const head = Uint8Array.from(entry.source.read(0, 4096));
  if (head.length === 0) {
    entry.row.format = 'empty';
    if (MODEL_NAME.test(entry.name) || PICKLE_NAME.test(entry.name)) failUnknown(entry, input);
    return;
  }
  let analyzer = null;
  try {
    analyzer = ANALYZERS.find((a) => a.detect(head, entry)) ?? null;
  } catch (e) {
    if (!(e instanceof FormatError || e instanceof LimitError)) throw e;
  }
  if (!analyzer) {
    entry.row.format = sniffPlain(head);
    if (MODEL_NAME.test(entry.name) || CONFIG_NAME.test(entry.name)) failUnknown(entry, input);
    return;
  }
  entry.row.format = analyzer.id;
  entry.row.status = 'scanned';
  try {
    await analyzer.analyze(entry, input, walk);
    checkExtension(entry, input);
  } catch (e) {
    entry.row.status = 'error';
    if (e instanceof LimitError) {
      input.report(entry, { ruleId: 'MG-LIM-001', offset: e.offset, message: `Scan budget exceeded (${e.limit}): ${e.message}; the rest of this file was not inspected.`, evidence: { limit: e.limit } });
    } else if (e instanceof FormatError) {
      const ruleId = analyzer.id === 'safetensors' ? 'MG-ST-001' : analyzer.id === 'npy' ? 'MG-NPY-002' : analyzer.id === 'pickle' ? 'MG-PKL-008' : 'MG-ARC-002';
      input.report(entry, { ruleId, offset: e.offset, message: `Could not read this ${analyzer.id} file: ${e.message}.`, evidence: { code: e.code } });
    } else {
      // A bug in an analyzer must not turn into a pass, nor stop the other files.
      input.report(entry, { ruleId: 'MG-ARC-002', message: `Internal scanner error: ${(e as Error)?.message ?? String(e)}; the file was not fully inspected.`, evidence: { internal: true } });
    }
  }
}

/** What each model-file extension promises; content of another format earns a low MG-FMT-002. */
const EXTENSION_FORMATS: Array<[RegExp, string[]]> = [
  [/\.safetensors$/i, ['safetensors']],
  [/\.npy$/i, ['npy']],
  [/\.npz$/i, ['npz', 'zip']],
  [/\.(pt|pth|ckpt)$/i, ['pytorch-zip', 'pytorch-legacy', 'torchscript', 'pickle', 'polyglot']],
  [/\.(h5|hdf5|keras|onnx|gguf|tflite)$/i, ['hdf5', 'keras', 'onnx', 'gguf', 'tflite']],
  [/\.(pkl|pickle|dill)$/i, ['pickle', 'joblib', 'pytorch-legacy', 'polyglot']],
  [/\.joblib$/i, ['joblib', 'pickle', 'gzip', 'zlib', 'bzip2', 'xz', 'lzma', 'lz4']],
  [/\.zip$/i, ['zip', 'npz', 'pytorch-zip', 'torchscript']],
];

function checkExtension(entry: Entry, input: InputScan): void {
  const rule = EXTENSION_FORMATS.find(([re]) => re.test(entry.name));
  if (!rule || entry.row.status === 'skipped' || rule[1].includes(entry.row.format)) return;
  input.report(entry, {
    ruleId: 'MG-FMT-002',
    message: `Named "${entry.name.split('/').pop()}" but the content is ${entry.row.format}; loaders choose by content, tools that route by extension will not.`,
    evidence: { format: entry.row.format },
  });
}

function failUnknown(entry: Entry, input: InputScan): void {
  entry.row.status = 'error';
  input.report(entry, { ruleId: 'MG-FMT-001', message: `Named like a model or config file ("${entry.name}"), but its content matches no format modelgate can read (or it is over the text size bound).` });
}

function sniffPlain(head: Uint8Array): string {
  let printable = 0;
  for (const b of head) if (b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127) || b >= 0x80) printable++;
  if (printable / head.length < 0.95) return 'binary';
  const first = String.fromCharCode(head.find((b) => b > 32) ?? 0);
  return first === '{' || first === '[' ? 'json' : 'text';
}
