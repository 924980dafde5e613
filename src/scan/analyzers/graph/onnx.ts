// ONNX: external data (strings, then the file system next to a model on disk), tensor sizes, operator
// domains, Python-calling operators and local functions.
import { lstatSync, realpathSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import {
  DATA_LOCATION_EXTERNAL, ONNX_DTYPE_BITS, ONNX_DTYPE_NAMES, looksLikeOnnx, onnxGraphs, onnxTensors, readOnnx,
  type OnnxAttribute, type OnnxFunction, type OnnxModel, type OnnxTensor,
} from '../../../formats/onnx/index.ts';
import { FileSource } from '../../../formats/source.ts';
import type { Entry, InputScan } from '../../context.ts';
import type { Evidence } from '../../model.ts';
import type { Analyzer } from '../types.ts';
import { Capped, clip, failClosed, pathProblem } from './common.ts';

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
      // Python operators are reported even when a local function of that name exists: which one a
      // runtime picks is its choice, not the model's.
      if (ONNX_PYTHON_OPS.has(op)) {
        out.report({
          ruleId: 'MG-ONNX-006',
          offset: n.$offset ?? null,
          message: `Node "${clip(n.name ?? '', 80)}" in ${clip(site.where, 200)} is ${domain || 'ai.onnx'}::${op}, an operator that calls Python functions of the loading process.`,
          evidence: { op, domain, node: n.name ?? '', where: clip(site.where, 300), attributes: (n.attribute ?? []).slice(0, 16).map(attrText) },
        });
      } else if (!STANDARD_DOMAINS.has(domain) && !local.has(`${domain}\u0000${op}`)) {
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
    const label = `tensor "${clip(tensor.name ?? '', 80)}" (${clip(where, 200)})`;
    const ext = tensor.external_data ?? [];
    if (tensor.data_location === DATA_LOCATION_EXTERNAL || ext.length > 0) {
      checkExternal(out, tensor, label, dir, files);
    } else {
      checkInline(out, tensor, label, initializer);
    }
  }
  out.finish();
}

/** "name=value" of a node attribute for evidence: strings decoded from their first bytes, numbers as is. */
function attrText(a: OnnxAttribute): string {
  const dec = (b: { head: Uint8Array; length: number }) => clip(new TextDecoder().decode(b.head), 120) + (b.length > b.head.length ? '…' : '');
  const value = a.s ? dec(a.s) : a.strings ? a.strings.slice(0, 4).map(dec).join(',') : a.i !== undefined ? String(a.i) : a.ints ? a.ints.slice(0, 8).join(',') : a.f !== undefined ? String(a.f) : '…';
  return `${clip(a.name ?? '?', 60)}=${value}`;
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
