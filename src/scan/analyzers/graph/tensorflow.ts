// TensorFlow protobufs: ops that touch files or call Python, odd constant paths of checkpoint and table
// ops, asset names, and Keras metadata (Lambda code, modules outside Keras).
import { readGraphDef, readKerasMetadata, readMetadataProto, readSavedModel, sniffTfProto, type TfGraph, type TfNode } from '../../../formats/tensorflow/index.ts';
import type { Evidence } from '../../model.ts';
import type { Analyzer } from '../types.ts';
import { Capped, clip, failClosed, pathProblem } from './common.ts';

/** Ops that call Python (real: PyFunc…; the rest are names scanners flag because nothing legitimate uses them). */
export const TF_PYTHON_OPS = new Set(['PyFunc', 'PyFuncStateless', 'EagerPyFunc', 'PyCall', 'ShellExecute', 'ExecuteOp', 'SystemConfig']);
/** Ops that read, write or list files whatever their arguments: op → input index of the path (or attr). */
export const TF_FILE_OPS = new Map<string, number | string>([
  ['ReadFile', 0], ['WriteFile', 0], ['MatchingFiles', 0], ['ImmutableConst', 'memory_region_name'],
  ['SqlDataset', 1], ['ExperimentalSqlDataset', 1], ['DatasetToTFRecord', 1], ['ExperimentalDatasetToTFRecord', 1],
  ['SaveDataset', 1], ['SaveDatasetV2', 1],
]);
/** Ops every SavedModel or input pipeline uses with run-time paths: flagged only for an odd constant path. */
export const TF_PATH_OPS = new Map<string, number[]>([
  ['Save', [0]], ['SaveV2', [0]], ['SaveSlices', [0]], ['Restore', [0]], ['RestoreV2', [0]], ['RestoreSlice', [0]],
  ['MergeV2Checkpoints', [0, 1]], ['ShardedFilename', [0]], ['InitializeTableFromTextFile', [1]], ['InitializeTableFromTextFileV2', [1]],
  ['TFRecordDataset', [0]], ['TFRecordDatasetV2', [0]], ['TextLineDataset', [0]], ['FixedLengthRecordDataset', [0]], ['FixedLengthRecordDatasetV2', [0]],
  ['LoadAndRemapMatrix', [0]], ['LoadDataset', [0]], ['LMDBDataset', [0]], ['ExperimentalLMDBDataset', [0]], ['CSVDataset', [0]], ['CSVDatasetV2', [0]],
  ['ExperimentalCSVDataset', [0]], ['MatchingFilesDataset', [0]], ['CreateSummaryFileWriter', [1]],
]);
/** Ops whose output is (a function of) their input string: followed when resolving a path constant. */
const TF_PASS_THROUGH = new Set(['Identity', 'StringJoin', 'ShardedFilename', 'Snapshot', 'StopGradient', 'Reshape', 'ExpandDims', 'Squeeze']);

export const tensorflowAnalyzer: Analyzer = {
  id: 'tensorflow',
  version: 1,
  detect: (head, entry) => sniffTfProto(head, entry.source.size, entry.name) !== null,
  async analyze(entry, input) {
    const kind = sniffTfProto(entry.source.read(0, 4096), entry.source.size, entry.name);
    const opts = { deadline: input.deadline };
    const out = new Capped(entry, input);
    if (kind === 'savedmodel') {
      entry.row.format = 'tf-savedmodel';
      await failClosed(entry, input, 'MG-TF-007', 'SavedModel', () => {
        for (const mg of readSavedModel(entry.source, opts).metaGraphs) {
          for (const g of mg.graphs) checkTfGraph(out, g);
          for (const a of mg.assets) {
            const bad = pathProblem(a.filename);
            if (bad) out.report({ ruleId: 'MG-TF-004', offset: a.offset, message: `Asset file name "${clip(a.filename, 200)}" ${bad.problem}; the loader reads it as an asset.`, evidence: { filename: clip(a.filename, 300), problem: bad.problem } });
          }
          const keras = new KerasCheck(out);
          for (const u of mg.userObjects) if (u.identifier.startsWith('_tf_keras')) keras.check(u.metadata, `object ${u.identifier}`, u.offset);
        }
      });
    } else if (kind === 'graphdef') {
      entry.row.format = 'tf-graphdef';
      await failClosed(entry, input, 'MG-TF-007', 'TensorFlow GraphDef', () => {
        for (const g of readGraphDef(entry.source, opts)) checkTfGraph(out, g);
      });
    } else if (kind === 'keras-metadata') {
      entry.row.format = 'keras-metadata';
      await failClosed(entry, input, 'MG-TF-007', 'keras_metadata.pb', () => {
        const keras = new KerasCheck(out);
        for (const n of readKerasMetadata(entry.source, opts)) keras.check(n.metadata, n.nodePath || `node ${n.nodeId}`, n.offset);
      });
    } else {
      entry.row.format = kind === 'hub-module' ? 'tf-hub-module' : 'tf-fingerprint';
      await failClosed(entry, input, 'MG-TF-007', entry.name, () => void readMetadataProto(entry.source, opts));
    }
    out.finish();
  },
};

function checkTfGraph(out: Capped, g: TfGraph): void {
  const byName = new Map<string, TfNode>();
  for (const n of g.nodes) byName.set(n.name, n);
  for (const n of g.nodes) {
    const at = `node "${clip(n.name, 80)}" in ${clip(g.where, 100)}`;
    if (TF_PYTHON_OPS.has(n.op)) {
      out.report({ ruleId: 'MG-TF-002', offset: n.offset, message: `${at} is ${n.op}, which calls a Python function of the loading process.`, evidence: { op: n.op, node: n.name, where: clip(g.where, 300) } });
      continue;
    }
    const file = TF_FILE_OPS.get(n.op);
    if (file !== undefined) {
      const paths = typeof file === 'number' ? resolveStrings(byName, n.inputs[file]) : (n.attrs.get(file)?.strings ?? []);
      out.report({
        ruleId: 'MG-TF-001',
        offset: n.offset,
        message: `${at} is ${n.op}, which touches the host file system${paths.length ? ` (path ${paths.map((p) => `"${clip(p, 100)}"`).join(', ')})` : ''}.`,
        evidence: { op: n.op, node: n.name, where: clip(g.where, 300), paths: paths.map((p) => clip(p, 300)) },
      });
      continue;
    }
    if (n.op === 'PrintV2') {
      const stream = n.attrs.get('output_stream')?.strings[0] ?? '';
      if (stream.startsWith('file://')) {
        out.report({ ruleId: 'MG-TF-001', offset: n.offset, message: `${at} is PrintV2 writing to "${clip(stream, 200)}".`, evidence: { op: n.op, node: n.name, where: clip(g.where, 300), paths: [clip(stream, 300)] } });
      }
      continue;
    }
    for (const i of TF_PATH_OPS.get(n.op) ?? []) {
      const direct = byName.get(inputNode(n.inputs[i] ?? ''));
      for (const p of resolveStrings(byName, n.inputs[i])) {
        const bad = pathProblem(p);
        // Pieces joined onto a run-time prefix are judged by ".." only; a whole constant path also by being absolute.
        if (bad && (direct?.op === 'Const' || bad.problem.includes('..') || bad.problem.includes('NUL'))) {
          out.report({ ruleId: 'MG-TF-003', offset: n.offset, message: `${at} is ${n.op} with the constant path "${clip(p, 200)}", which ${bad.problem}.`, evidence: { op: n.op, node: n.name, where: clip(g.where, 300), path: clip(p, 300) } });
        }
      }
    }
  }
}

/** The node an input refers to: "^ctrl", "node:0" and function-style "node:out:0" all name "node". */
function inputNode(ref: string): string {
  return ref.replace(/^\^/, '').split(':')[0];
}

/** String constants that flow into an input, through Identity/StringJoin/… (bounded). */
function resolveStrings(byName: Map<string, TfNode>, ref: string | undefined): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (r: string | undefined, depth: number) => {
    if (r === undefined || depth > 8 || seen.size > 64) return;
    const name = inputNode(r);
    if (seen.has(name)) return;
    seen.add(name);
    const n = byName.get(name);
    if (!n) return;
    if (n.op === 'Const') out.push(...(n.attrs.get('value')?.strings ?? []));
    else if (TF_PASS_THROUGH.has(n.op)) for (const i of n.inputs) if (!i.startsWith('^')) visit(i, depth + 1);
  };
  visit(ref, 0);
  return out.slice(0, 16);
}

/** Keras metadata JSON: Lambda layers (code shown) and modules outside Keras, each reported once per file. */
class KerasCheck {
  private seen = new Set<string>();
  constructor(readonly out: Capped) {}

  check(metadata: string, where: string, offset: number): void {
    if (!metadata) return;
    let doc: unknown;
    try {
      doc = JSON.parse(metadata);
    } catch {
      this.out.report({ ruleId: 'MG-TF-007', offset, message: `Keras metadata of ${clip(where, 100)} is not JSON; it was not inspected.`, evidence: { where: clip(where, 200) } });
      return;
    }
    let budget = 1_000_000;
    // A Lambda's config names the module of its function: reported with the Lambda, not again.
    const lambdaConfigs = new Set<unknown>();
    const walk = (v: unknown, depth: number) => {
      if (depth > 100 || --budget < 0 || typeof v !== 'object' || v === null) return;
      if (Array.isArray(v)) {
        for (const x of v) walk(x, depth + 1);
        return;
      }
      const o = v as Record<string, unknown>;
      if (o.class_name === 'Lambda' && typeof o.config === 'object' && o.config !== null) {
        lambdaConfigs.add(o.config);
        this.lambda(o.config as Record<string, unknown>, where, offset);
      } else if (!lambdaConfigs.has(o)) this.module(o, where, offset);
      for (const x of Object.values(o)) walk(x, depth + 1);
    };
    walk(doc, 0);
  }

  private lambda(config: Record<string, unknown>, where: string, offset: number): void {
    const layer = typeof config.name === 'string' ? config.name : '?';
    for (const key of ['function', 'output_shape'] as const) {
      const fn = config[key];
      if (fn === undefined || fn === null || (key === 'output_shape' && config.output_shape_type !== 'lambda')) continue;
      const code = lambdaCode(fn);
      const type = String(config[`${key}_type`] ?? (code && code.length > 40 ? 'lambda' : 'function'));
      const id = `${layer}\u0000${key}\u0000${code ?? JSON.stringify(fn)}`;
      if (this.seen.has(id)) continue;
      this.seen.add(id);
      const module = typeof config.module === 'string' ? config.module : null;
      const evidence: Evidence = { layer, field: key, type, module, where: clip(where, 200) };
      if (type === 'lambda' && code) {
        evidence.code = clip(code, 120);
        evidence.codeBytes = Math.floor((code.length * 3) / 4);
        evidence.names = marshalNames(code);
      } else evidence.function = clip(code ?? JSON.stringify(fn), 200);
      this.out.report({
        ruleId: 'MG-TF-005',
        offset,
        message: type === 'lambda'
          ? `Lambda layer "${clip(layer, 80)}" (${clip(where, 80)}) stores marshalled Python bytecode in "${key}" that Keras runs on load${(evidence.names as string[]).length ? ` (mentions ${(evidence.names as string[]).slice(0, 8).join(', ')})` : ''}.`
          : `Lambda layer "${clip(layer, 80)}" (${clip(where, 80)}) calls the Python function ${clip(String(evidence.function), 80)}${module ? ` from module ${clip(module, 80)}` : ''}, imported on load.`,
        evidence,
      });
    }
  }

  private module(o: Record<string, unknown>, where: string, offset: number): void {
    const module = typeof o.module === 'string' ? o.module : null;
    const className = typeof o.class_name === 'string' ? o.class_name : null;
    const foreignModule = module !== null && !/^(keras|tf_keras|tensorflow|tf)(\.|$)/.test(module);
    const registered = className !== null && className.includes('>');
    if (!foreignModule && !registered) return;
    const id = `${module}\u0000${className}`;
    if (this.seen.has(id)) return;
    this.seen.add(id);
    this.out.report({
      ruleId: 'MG-TF-006',
      offset,
      message: `Keras metadata of ${clip(where, 80)} references ${className ? `class ${clip(className, 80)}` : 'an object'}${module ? ` from module ${clip(module, 80)}` : ''}, which loading imports.`,
      evidence: { module, className, where: clip(where, 200) },
    });
  }
}

/** The base64 code of a serialized Lambda function in any of Keras's layouts, or a function name. */
function lambdaCode(fn: unknown): string | null {
  if (typeof fn === 'string') return fn;
  if (Array.isArray(fn)) return typeof fn[0] === 'string' ? fn[0] : null;
  if (typeof fn === 'object' && fn !== null) {
    const o = fn as Record<string, unknown>;
    if (Array.isArray(o.items)) return lambdaCode(o.items); // {"class_name": "__tuple__", "items": [code, defaults, closure]}
    if (typeof o.config === 'object' && o.config !== null) {
      const c = o.config as Record<string, unknown>;
      if (typeof c.code === 'string') return c.code; // {"class_name": "__lambda__", "config": {"code": …}}
      if (typeof c.function_name === 'string') return c.function_name;
    }
  }
  return null;
}

/**
 * The strings of a base64 marshal blob (names, constants: os, system, the command line…), read from
 * marshal's string records: short ones ('z'/'Z': one length byte) and long ones ('a'/'A'/'u'/'s': four).
 */
function marshalNames(b64: string): string[] {
  const bytes = Buffer.from(b64.slice(0, 1 << 20), 'base64');
  const names = new Set<string>();
  for (let i = 0; i < bytes.length && names.size < 24; i++) {
    const t = String.fromCharCode(bytes[i] & 0x7f); // the high bit is marshal's FLAG_REF
    let n = -1;
    let at = 0;
    if (t === 'z' || t === 'Z') [n, at] = [bytes[i + 1] ?? 0, i + 2];
    else if ('aAus'.includes(t) && i + 5 <= bytes.length) [n, at] = [bytes.readUInt32LE(i + 1), i + 5];
    if (n < 2 || n > 256 || at + n > bytes.length) continue;
    const s = bytes.subarray(at, at + n).toString('latin1');
    if (!/^[\x20-\x7e]+$/.test(s) || s === '<lambda>' || s === '<keras>') continue;
    names.add(clip(s, 80));
    i = at + n - 1;
  }
  return [...names];
}
