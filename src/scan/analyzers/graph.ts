// Graph formats: ONNX, TensorFlow protobufs (SavedModel, GraphDef, keras_metadata.pb, fingerprint.pb) and
// TensorFlow Lite. The parsers in formats/ return structure; the policy — which ops, paths and domains
// matter — lives here.
import { lstatSync, realpathSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { FormatError } from '../../formats/errors.ts';
import { FileSource } from '../../formats/source.ts';
import {
  DATA_LOCATION_EXTERNAL, ONNX_DTYPE_BITS, ONNX_DTYPE_NAMES, looksLikeOnnx, onnxGraphs, onnxTensors, readOnnx,
  type OnnxFunction, type OnnxModel, type OnnxTensor,
} from '../../formats/onnx/index.ts';
import {
  readFingerprint, readGraphDef, readKerasMetadata, readSavedModel, sniffTfProto, type TfGraph, type TfNode,
} from '../../formats/tensorflow/index.ts';
import { TFLITE_CUSTOM, looksLikeTflite, readTflite } from '../../formats/tflite/index.ts';
import type { Entry, InputScan } from '../context.ts';
import type { Evidence } from '../model.ts';
import type { Analyzer } from './types.ts';

/** Findings of one rule per file beyond which the rest are summarised in one line. */
const MAX_PER_RULE = 20;

/** Reports a parse failure under the format's own rule and marks the row as not fully inspected. */
async function failClosed(entry: Entry, input: InputScan, ruleId: string, what: string, run: () => void): Promise<void> {
  try {
    run();
  } catch (e) {
    if (!(e instanceof FormatError)) throw e; // LimitError and bugs: the walker reports them
    entry.row.status = 'error';
    input.report(entry, { ruleId, offset: e.offset, message: `Could not read this ${what}: ${e.message}; the rest of the file was not inspected.`, evidence: { code: e.code } });
  }
}

/** Counts findings per rule and reports the overflow once. */
class Capped {
  private counts = new Map<string, number>();
  constructor(
    readonly entry: Entry,
    readonly input: InputScan,
  ) {}
  report(f: Parameters<InputScan['report']>[1]): void {
    const n = (this.counts.get(f.ruleId) ?? 0) + 1;
    this.counts.set(f.ruleId, n);
    if (n <= MAX_PER_RULE) this.input.report(this.entry, f);
  }
  finish(): void {
    for (const [ruleId, n] of this.counts) {
      if (n > MAX_PER_RULE) this.input.report(this.entry, { ruleId, message: `${n - MAX_PER_RULE} more findings of this rule in this file were not listed.`, evidence: { total: n } });
    }
  }
}

function clip(s: string, n = 160): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

/** A path string that leaves the folder it is relative to, or why it is odd; null when it is a plain relative path. */
function pathProblem(p: string): { problem: string; escapes: boolean } | null {
  if (p.includes('\0')) return { problem: 'contains a NUL byte', escapes: true };
  if (/^[A-Za-z]:/.test(p)) return { problem: 'is a Windows drive path', escapes: true };
  if (/^[\\/]{2}/.test(p)) return { problem: 'is a UNC / network path', escapes: true };
  if (/^[\\/]/.test(p)) return { problem: 'is absolute', escapes: true };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(p)) return { problem: 'is a URL', escapes: true };
  let depth = 0;
  let dotdot = false;
  for (const part of p.split(/[\\/]+/)) {
    if (part === '..') {
      dotdot = true;
      if (--depth < 0) return { problem: 'climbs out of the folder with ".."', escapes: true };
    } else if (part !== '.' && part !== '') depth++;
  }
  return dotdot ? { problem: 'contains ".." (it stays inside the folder, but loaders refuse it)', escapes: false } : null;
}

// --- ONNX ----------------------------------------------------------------------------------------

/** Domains implemented by ONNX itself and by ONNX Runtime's built-in contrib kernels. */
const STANDARD_DOMAINS = new Set(['', 'ai.onnx', 'ai.onnx.ml', 'ai.onnx.training', 'ai.onnx.preview.training', 'com.microsoft', 'com.microsoft.nchwc', 'com.ms.internal.nhwc', 'com.microsoft.experimental']);
/** Operators that call Python functions of the loading process, in any domain. */
const ONNX_PYTHON_OPS = new Set(['PythonOp', 'PythonOpGrad', 'PyOp', 'PyFunc', 'PyOpV2']);

export const onnxAnalyzer: Analyzer = {
  id: 'onnx',
  version: 1,
  detect: (head, entry) => looksLikeOnnx(head, entry.source.size, /\.onnx$/i.test(entry.name)),
  async analyze(entry, input) {
    let model: OnnxModel | null = null;
    await failClosed(entry, input, 'MG-ONNX-008', 'ONNX model', () => {
      model = readOnnx(entry.source, { deadline: input.deadline });
    });
    if (model) checkOnnx(entry, input, model);
  },
};

function checkOnnx(entry: Entry, input: InputScan, model: OnnxModel): void {
  const out = new Capped(entry, input);
  const functions = model.functions ?? [];
  const local = new Set(functions.map((f) => `${normDomain(f.domain)}\u0000${f.name ?? ''}`));
  if (functions.length > 0) {
    out.report({
      ruleId: 'MG-ONNX-007',
      message: `The model defines ${functions.length} local function(s): ${clip(functions.map((f) => fnName(f)).join(', '))}; their bodies were scanned.`,
      evidence: { functions: functions.slice(0, 50).map(fnName) },
    });
  }

  // Operators: custom domains (grouped) and Python-calling ops (each).
  const custom = new Map<string, Set<string>>();
  for (const site of onnxGraphs(model)) {
    for (const n of site.graph.node ?? []) {
      const domain = normDomain(n.domain);
      const op = n.op_type ?? '';
      if (local.has(`${domain}\u0000${op}`)) continue; // resolved inside the model
      if (ONNX_PYTHON_OPS.has(op)) {
        out.report({
          ruleId: 'MG-ONNX-006',
          offset: n.$offset ?? null,
          message: `Node "${clip(n.name ?? '', 80)}" in ${site.where} is ${domain || 'ai.onnx'}::${op}, an operator that calls Python functions of the loading process.`,
          evidence: { op, domain, node: n.name ?? '', where: site.where },
        });
      } else if (!STANDARD_DOMAINS.has(domain)) {
        const ops = custom.get(domain) ?? new Set<string>();
        ops.add(op);
        custom.set(domain, ops);
      }
    }
  }
  for (const [domain, ops] of custom) {
    const list = [...ops].sort();
    out.report({
      ruleId: 'MG-ONNX-005',
      message: `Operators from custom domain "${clip(domain, 80)}" need a native custom-op library: ${clip(list.join(', '))}.`,
      evidence: { domain, ops: list.slice(0, 100) },
    });
  }

  // Tensors: external references and size consistency.
  // Only a file on disk has neighbours to check; archive members and in-memory sources do not.
  const dir = entry.source instanceof FileSource ? dirname(entry.source.path) : null;
  const files = new Map<string, FileFacts | null>();
  for (const { tensor, where, initializer } of onnxTensors(model)) {
    const label = `tensor "${clip(tensor.name ?? '', 80)}" (${where})`;
    const ext = tensor.external_data ?? [];
    if (tensor.data_location === DATA_LOCATION_EXTERNAL || ext.length > 0) {
      checkExternal(out, tensor, label, dir, files);
    } else {
      checkInline(out, tensor, label, initializer);
    }
  }
  out.finish();
}

function normDomain(d: string | undefined): string {
  return d === 'ai.onnx' ? '' : (d ?? '');
}

function fnName(f: OnnxFunction): string {
  return `${f.domain ? `${f.domain}.` : ''}${f.name ?? '?'}`;
}

/** Number of elements of dims, or null when a dim is negative, fractional or the product is not exact. */
function elementCount(dims: number[] | undefined): number | null {
  let n = 1;
  for (const d of dims ?? []) {
    if (!Number.isSafeInteger(d) || d < 0) return null;
    n *= d;
    if (!Number.isSafeInteger(n)) return null;
  }
  return n;
}

function dtypeName(t: number | undefined): string {
  return ONNX_DTYPE_NAMES[t ?? 0] ?? `type ${t}`;
}

/** Bytes of `n` elements of data type `t`, or null for strings/unknown types. */
function byteSize(t: number | undefined, n: number): number | null {
  const bits = ONNX_DTYPE_BITS.get(t ?? 0);
  return bits === undefined ? null : Math.ceil((n * bits) / 8);
}

/** The typed field each data type stores its values in, and how many entries one element takes. */
function typedField(t: number): [keyof OnnxTensor, number] | null {
  if (t === 1) return ['float_data', 1];
  if (t === 14) return ['float_data', 2];
  if (t === 11) return ['double_data', 1];
  if (t === 15) return ['double_data', 2];
  if (t === 7) return ['int64_data', 1];
  if (t === 12 || t === 13) return ['uint64_data', 1];
  if (t === 8) return ['string_data', 1];
  if (ONNX_DTYPE_BITS.has(t)) return ['int32_data', 1];
  return null;
}

const TYPED_FIELDS = ['float_data', 'int32_data', 'string_data', 'int64_data', 'double_data', 'uint64_data'] as const;

function checkInline(out: Capped, t: OnnxTensor, label: string, initializer: boolean): void {
  const n = elementCount(t.dims);
  const dt = t.data_type ?? 0;
  const present = TYPED_FIELDS.filter((f) => t[f] !== undefined);
  const mismatch = (detail: string, evidence: Evidence = {}) =>
    out.report({ ruleId: 'MG-ONNX-004', offset: t.$offset ?? null, message: `${label}: ${detail}.`, evidence: { tensor: t.name ?? '', dtype: dtypeName(dt), dims: (t.dims ?? []).slice(0, 16).join('x'), ...evidence } });
  if (n === null) return mismatch(`dims [${(t.dims ?? []).slice(0, 16).join(', ')}] are negative or overflow`);
  if (dt === 0 && !t.raw_data && present.length === 0) return; // an empty, untyped tensor (allowed in attributes)
  const field = typedField(dt);
  if (!field) return mismatch(`unknown data type ${dt}`);
  if (t.raw_data) {
    const want = byteSize(dt, n);
    if (dt === 8) return mismatch('STRING tensors cannot use raw_data');
    if (want !== null && t.raw_data.bytes !== want) return mismatch(`raw_data holds ${t.raw_data.bytes} bytes, ${n} × ${dtypeName(dt)} needs ${want}`, { bytes: t.raw_data.bytes, expected: want });
    return;
  }
  const [name, per] = field;
  for (const f of present) if (f !== name) return mismatch(`data stored in ${f}, which ${dtypeName(dt)} does not use (loaders read ${name})`);
  const payload = t[name] as OnnxTensor['raw_data'];
  const count = payload?.count ?? 0;
  if (payload && payload.count === null) return; // too large to count cheaply
  // 4-bit types pack two values per int32_data entry (onnx ≥ 1.16); accept either reading.
  const fourBit = dt === 21 || dt === 22 || dt === 23;
  if (count === n * per || (fourBit && count === Math.ceil(n / 2))) return;
  if (count === 0 && n > 0 && !initializer) return mismatch(`no data for ${n} elements`);
  if (count === 0 && n > 0) return mismatch(`initializer has no data for ${n} elements`);
  mismatch(`${name} holds ${count} values, dims need ${n * per}`, { values: count, expected: n * per });
}

interface FileFacts {
  /** Size of the data file, null when it is not a regular file inside the folder. */
  size: number | null;
  problem: string | null;
  nlink: number;
  target: string | null;
}

function checkExternal(out: Capped, t: OnnxTensor, label: string, dir: string | null, files: Map<string, FileFacts | null>): void {
  const kv = new Map((t.external_data ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = kv.get('location');
  const offset = t.$offset ?? null;
  const evidence: Evidence = { tensor: t.name ?? '', location: location === undefined ? null : clip(location, 300) };
  if (location === undefined || location === '') {
    out.report({ ruleId: 'MG-ONNX-003', offset, message: `${label} declares external data without a location.`, evidence });
    return;
  }
  const bad = pathProblem(location);
  if (bad) {
    out.report({
      ruleId: 'MG-ONNX-001',
      severity: bad.escapes ? 'critical' : 'medium',
      offset,
      message: `${label} reads its data from "${clip(location, 200)}", which ${bad.problem}; onnx.load() would read that file into the model.`,
      evidence: { ...evidence, problem: bad.problem },
    });
    return;
  }
  const num = (k: string): number | null | 'bad' => {
    const v = kv.get(k);
    if (v === undefined) return null;
    return /^\d{1,16}$/.test(v) ? Number(v) : 'bad';
  };
  const start = num('offset');
  const length = num('length');
  if (start === 'bad' || length === 'bad') {
    out.report({ ruleId: 'MG-ONNX-003', offset, message: `${label} has a non-numeric external offset/length ("${clip(kv.get('offset') ?? '', 40)}", "${clip(kv.get('length') ?? '', 40)}").`, evidence });
    return;
  }
  const n = elementCount(t.dims);
  const want = n === null ? null : byteSize(t.data_type, n);
  if (length !== null && want !== null && length !== want) {
    out.report({ ruleId: 'MG-ONNX-004', offset, message: `${label}: external length ${length} bytes, ${n} × ${dtypeName(t.data_type)} needs ${want}.`, evidence: { ...evidence, length, expected: want } });
  }
  if (dir === null) return; // inside an archive: the data file is another member, scanned on its own
  // What the file system says is reported once per data file, with the first tensor that reads it.
  let facts = files.get(location);
  const first = facts === undefined;
  if (first) {
    facts = statExternal(dir, location);
    files.set(location, facts);
  }
  if (facts === null || facts === undefined) {
    if (first) out.report({ ruleId: 'MG-ONNX-003', severity: 'low', offset, message: `${label} reads "${clip(location, 200)}", which is not present next to the model; that data was not inspected.`, evidence });
    return;
  }
  if (facts.problem && first) {
    out.report({
      ruleId: 'MG-ONNX-002',
      severity: facts.problem.startsWith('is a hard link') ? 'medium' : 'high',
      offset,
      message: `${label} reads "${clip(location, 200)}", which ${facts.problem}.`,
      evidence: { ...evidence, target: facts.target, links: facts.nlink },
    });
  }
  const begin = start ?? 0;
  const end = begin + (length ?? 0);
  if (facts.size !== null && (begin > facts.size || end > facts.size)) {
    out.report({ ruleId: 'MG-ONNX-003', offset, message: `${label} reads bytes ${begin}..${end} of "${clip(location, 200)}", which has only ${facts.size}.`, evidence: { ...evidence, offset: begin, length: length ?? null, fileSize: facts.size } });
  }
}

/** What the file system says about an external data file next to a top-level model; null when absent. */
function statExternal(dir: string, location: string): FileFacts | null {
  const path = resolve(dir, location);
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return null;
  }
  let real: string;
  let realDir: string;
  try {
    real = realpathSync(path);
    realDir = realpathSync(dir);
  } catch {
    return { size: null, problem: 'is a dangling symbolic link', nlink: st.nlink, target: null };
  }
  const inside = real.startsWith(realDir + sep);
  if (!inside) return { size: null, problem: `resolves to ${clip(real, 200)}, outside the model folder (a symbolic link)`, nlink: st.nlink, target: real };
  let target;
  try {
    target = lstatSync(real);
  } catch {
    return null;
  }
  if (!target.isFile()) return { size: null, problem: 'is not a regular file', nlink: target.nlink, target: real };
  if (target.nlink > 1) return { size: target.size, problem: `is a hard link (${target.nlink} names); its content may belong to a file elsewhere`, nlink: target.nlink, target: real };
  return { size: target.size, problem: null, nlink: target.nlink, target: null };
}

// --- TensorFlow ----------------------------------------------------------------------------------

/** Ops that call Python (real: PyFunc…; the rest are names scanners flag because nothing legitimate uses them). */
const TF_PYTHON_OPS = new Set(['PyFunc', 'PyFuncStateless', 'EagerPyFunc', 'PyCall', 'ShellExecute', 'ExecuteOp', 'SystemConfig']);
/** Ops that read, write or list files whatever their arguments: op → input index of the path (or attr). */
const TF_FILE_OPS = new Map<string, number | string>([
  ['ReadFile', 0], ['WriteFile', 0], ['MatchingFiles', 0], ['ImmutableConst', 'memory_region_name'],
  ['SqlDataset', 1], ['ExperimentalSqlDataset', 1], ['DatasetToTFRecord', 1], ['ExperimentalDatasetToTFRecord', 1],
  ['SaveDataset', 1], ['SaveDatasetV2', 1],
]);
/** Ops every SavedModel or input pipeline uses with run-time paths: flagged only for an odd constant path. */
const TF_PATH_OPS = new Map<string, number[]>([
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
      entry.row.format = 'tf-fingerprint';
      await failClosed(entry, input, 'MG-TF-007', 'fingerprint.pb', () => void readFingerprint(entry.source, opts));
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
      out.report({ ruleId: 'MG-TF-002', offset: n.offset, message: `${at} is ${n.op}, which calls a Python function of the loading process.`, evidence: { op: n.op, node: n.name, where: g.where } });
      continue;
    }
    const file = TF_FILE_OPS.get(n.op);
    if (file !== undefined) {
      const paths = typeof file === 'number' ? resolveStrings(byName, n.inputs[file]) : (n.attrs.get(file)?.strings ?? []);
      out.report({
        ruleId: 'MG-TF-001',
        offset: n.offset,
        message: `${at} is ${n.op}, which touches the host file system${paths.length ? ` (path ${paths.map((p) => `"${clip(p, 100)}"`).join(', ')})` : ''}.`,
        evidence: { op: n.op, node: n.name, where: g.where, paths: paths.map((p) => clip(p, 300)) },
      });
      continue;
    }
    if (n.op === 'PrintV2') {
      const stream = n.attrs.get('output_stream')?.strings[0] ?? '';
      if (stream.startsWith('file://')) {
        out.report({ ruleId: 'MG-TF-001', offset: n.offset, message: `${at} is PrintV2 writing to "${clip(stream, 200)}".`, evidence: { op: n.op, node: n.name, where: g.where, paths: [clip(stream, 300)] } });
      }
      continue;
    }
    for (const i of TF_PATH_OPS.get(n.op) ?? []) {
      const direct = byName.get(inputNode(n.inputs[i] ?? ''));
      for (const p of resolveStrings(byName, n.inputs[i])) {
        const bad = pathProblem(p);
        // Pieces joined onto a run-time prefix are judged by ".." only; a whole constant path also by being absolute.
        if (bad && (direct?.op === 'Const' || bad.problem.includes('..') || bad.problem.includes('NUL'))) {
          out.report({ ruleId: 'MG-TF-003', offset: n.offset, message: `${at} is ${n.op} with the constant path "${clip(p, 200)}", which ${bad.problem}.`, evidence: { op: n.op, node: n.name, where: g.where, path: clip(p, 300) } });
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

// --- TensorFlow Lite -----------------------------------------------------------------------------

/** Custom ops the standard interpreter (or MediaPipe's) registers itself. */
const TFLITE_KNOWN_CUSTOM = new Set([
  'TFLite_Detection_PostProcess', 'Convolution2DTransposeBias', 'MaxPoolingWithArgmax2D', 'MaxUnpooling2D',
  'Landmarks2TransformMatrix', 'TransformLandmarks', 'TransformTensorBilinear', 'AudioSpectrogram', 'Mfcc',
]);

export const tfliteAnalyzer: Analyzer = {
  id: 'tflite',
  version: 1,
  detect: (head, entry) => looksLikeTflite(head, entry.source.size) || /\.tflite$/i.test(entry.name),
  async analyze(entry, input) {
    const out = new Capped(entry, input);
    await failClosed(entry, input, 'MG-TFL-004', 'TFLite model', () => {
      const head = entry.source.read(0, 8);
      if (!looksLikeTflite(head, entry.source.size)) throw new FormatError('tflite-identifier', 'no "TFL3" file identifier at offset 4, or the root offset is outside the file', 4);
      const m = readTflite(entry.source, { deadline: input.deadline });
      const size = entry.source.size;
      const custom = new Set<string>();
      const known = new Set<string>();
      const flex = new Set<string>();
      const dangerous = new Set<string>();
      m.operatorCodes.forEach((c, i) => {
        if (c.builtinCode !== TFLITE_CUSTOM) return;
        const name = c.customCode;
        if (name === null || name === '') {
          out.report({ ruleId: 'MG-TFL-004', message: `Operator code ${i} is CUSTOM but names no operator.`, evidence: { index: i } });
          return;
        }
        if (name.startsWith('Flex')) {
          const tfOp = name.slice(4);
          (TF_PYTHON_OPS.has(tfOp) || TF_FILE_OPS.has(tfOp) || TF_PATH_OPS.has(tfOp) || tfOp === 'PrintV2' ? dangerous : flex).add(name);
        } else (TFLITE_KNOWN_CUSTOM.has(name) ? known : custom).add(name);
      });
      const list = (s: Set<string>) => [...s].sort().map((x) => clip(x, 100));
      if (dangerous.size) out.report({ ruleId: 'MG-TFL-003', message: `Flex ops that touch files or call Python: ${clip(list(dangerous).join(', '))}.`, evidence: { ops: list(dangerous).slice(0, 100) } });
      if (flex.size) out.report({ ruleId: 'MG-TFL-002', message: `Select TensorFlow (Flex) ops: ${clip(list(flex).join(', '))}.`, evidence: { ops: list(flex).slice(0, 100) } });
      if (custom.size) out.report({ ruleId: 'MG-TFL-001', message: `Custom ops the TFLite runtime does not ship: ${clip(list(custom).join(', '))}.`, evidence: { ops: list(custom).slice(0, 100) } });
      if (known.size) out.report({ ruleId: 'MG-TFL-001', severity: 'low', message: `Custom ops registered by the standard TFLite/MediaPipe runtimes: ${clip(list(known).join(', '))}.`, evidence: { ops: list(known).slice(0, 100) } });
      m.subgraphs.forEach((sg, i) => {
        const missing = [...sg.opcodeIndices].filter((k) => k >= m.operatorCodes.length);
        if (missing.length) out.report({ ruleId: 'MG-TFL-004', message: `Subgraph ${i} has operators with opcode_index ${missing.slice(0, 5).join(', ')} but only ${m.operatorCodes.length} operator codes exist.`, evidence: { subgraph: i, indices: missing.slice(0, 20).join(',') } });
      });
      m.buffers.forEach((b, i) => {
        // offset 1 with size 0 is the converter's placeholder for "no external data".
        if (b.size > 0 && (b.offset + b.size > size || b.offset < 8)) {
          out.report({ ruleId: 'MG-TFL-004', message: `Buffer ${i} points outside the model: bytes ${b.offset}..${b.offset + b.size} of a ${size}-byte file.`, evidence: { buffer: i, offset: b.offset, size: b.size } });
        }
      });
      for (const o of m.largeCustomOptions) {
        if (o.offset + o.size > size) out.report({ ruleId: 'MG-TFL-004', message: `Custom options at bytes ${o.offset}..${o.offset + o.size} lie outside the ${size}-byte model.`, evidence: { offset: o.offset, size: o.size } });
      }
    });
    out.finish();
  },
};

export const graphAnalyzers: Analyzer[] = [tfliteAnalyzer, tensorflowAnalyzer, onnxAnalyzer];
