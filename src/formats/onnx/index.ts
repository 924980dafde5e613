// ONNX ModelProto, read from hostile bytes. The schema is ONNX's own onnx.proto (vendored, loaded as a
// protobufjs JSON descriptor); the bytes are walked by our bounded protobuf reader, which summarises
// tensor payloads (raw_data, float_data, …) instead of reading them. No policy here: the scanner decides
// what an external path, a custom domain or a size mismatch means.
import { createRequire } from 'node:module';
import type * as Protobuf from 'protobufjs/light.js';
import { LimitError } from '../errors.ts';
import { ProtoReader, WIRE_LEN, WIRE_VARINT, varintAt } from '../protobuf/index.ts';
import { compileSchema, decodeMessage, type MessageSchema, type ProtoBytes, type ProtoPayload } from '../protobuf/schema.ts';
import type { ByteSource } from '../source.ts';
import { ONNX_SCHEMA_JSON } from './schema.generated.ts';

export interface OnnxEntry {
  key?: string;
  value?: string;
}

export interface OnnxTensor {
  $offset?: number;
  name?: string;
  dims?: number[];
  data_type?: number;
  data_location?: number;
  external_data?: OnnxEntry[];
  raw_data?: ProtoPayload;
  float_data?: ProtoPayload;
  int32_data?: ProtoPayload;
  string_data?: ProtoPayload;
  int64_data?: ProtoPayload;
  double_data?: ProtoPayload;
  uint64_data?: ProtoPayload;
}

export interface OnnxSparseTensor {
  $offset?: number;
  values?: OnnxTensor;
  indices?: OnnxTensor;
  dims?: number[];
}

export interface OnnxAttribute {
  $offset?: number;
  name?: string;
  type?: number;
  i?: number;
  f?: number;
  s?: ProtoBytes;
  t?: OnnxTensor;
  g?: OnnxGraph;
  sparse_tensor?: OnnxSparseTensor;
  ints?: number[];
  strings?: ProtoBytes[];
  tensors?: OnnxTensor[];
  graphs?: OnnxGraph[];
  sparse_tensors?: OnnxSparseTensor[];
}

export interface OnnxNode {
  $offset?: number;
  name?: string;
  op_type?: string;
  domain?: string;
  overload?: string;
  input?: string[];
  output?: string[];
  attribute?: OnnxAttribute[];
}

export interface OnnxGraph {
  $offset?: number;
  name?: string;
  node?: OnnxNode[];
  initializer?: OnnxTensor[];
  sparse_initializer?: OnnxSparseTensor[];
}

export interface OnnxOpset {
  domain?: string;
  version?: number;
}

export interface OnnxFunction {
  $offset?: number;
  name?: string;
  domain?: string;
  overload?: string;
  node?: OnnxNode[];
  opset_import?: OnnxOpset[];
  attribute_proto?: OnnxAttribute[];
}

export interface OnnxModel {
  ir_version?: number;
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: number;
  opset_import?: OnnxOpset[];
  metadata_props?: OnnxEntry[];
  graph?: OnnxGraph;
  training_info?: Array<{ initialization?: OnnxGraph; algorithm?: OnnxGraph }>;
  functions?: OnnxFunction[];
}

/** TensorProto.DataLocation.EXTERNAL */
export const DATA_LOCATION_EXTERNAL = 1;

/** Bits per element of each TensorProto.DataType (STRING and UNDEFINED have none). */
export const ONNX_DTYPE_BITS: ReadonlyMap<number, number> = new Map([
  [1, 32], [2, 8], [3, 8], [4, 16], [5, 16], [6, 32], [7, 64], [9, 8], [10, 16], [11, 64], [12, 32], [13, 64],
  [14, 64], [15, 128], [16, 16], [17, 8], [18, 8], [19, 8], [20, 8], [21, 4], [22, 4], [23, 4], [24, 8],
]);

export const ONNX_DTYPE_NAMES: readonly string[] = [
  'UNDEFINED', 'FLOAT', 'UINT8', 'INT8', 'UINT16', 'INT16', 'INT32', 'INT64', 'STRING', 'BOOL', 'FLOAT16', 'DOUBLE', 'UINT32', 'UINT64',
  'COMPLEX64', 'COMPLEX128', 'BFLOAT16', 'FLOAT8E4M3FN', 'FLOAT8E4M3FNUZ', 'FLOAT8E5M2', 'FLOAT8E5M2FNUZ', 'UINT4', 'INT4', 'FLOAT4E2M1', 'FLOAT8E8M0',
];

/** protobuf (and so every ONNX loader) refuses messages of 2 GiB or more; bigger models use external data. */
export const ONNX_MAX_BYTES = 2 ** 31 - 1;

let schema: MessageSchema | null = null;

function modelSchema(): MessageSchema {
  if (schema) return schema;
  // Loaded on first use: protobufjs costs start-up time that scans without ONNX should not pay.
  const protobuf = createRequire(import.meta.url)('protobufjs/light.js') as typeof Protobuf;
  const root = protobuf.Root.fromJSON(ONNX_SCHEMA_JSON as unknown as Protobuf.INamespace);
  const type = (name: string) => root.lookupType(`onnx.${name}`);
  // Fields newer than the vendored ONNX 1.12 schema that can carry nodes or change op resolution:
  // without them, a function's default attribute graphs would be skipped as unknown fields.
  type('FunctionProto').add(new protobuf.Field('attribute_proto', 11, 'AttributeProto', 'repeated'));
  type('FunctionProto').add(new protobuf.Field('overload', 13, 'string'));
  type('NodeProto').add(new protobuf.Field('overload', 8, 'string'));
  root.resolveAll();
  schema = compileSchema(type('ModelProto'), (message, field) => PAYLOAD_FIELDS.has(`${message}.${field}`) || field === 'doc_string');
  return schema;
}

const PAYLOAD_FIELDS = new Set(['raw_data', 'float_data', 'int32_data', 'string_data', 'int64_data', 'double_data', 'uint64_data'].map((f) => `TensorProto.${f}`));

export interface OnnxReadOptions {
  deadline?: number;
  maxDepth?: number;
}

/** Decodes a ModelProto; throws FormatError (malformed) or LimitError (too big, too deep, too slow). */
export function readOnnx(src: ByteSource, opts: OnnxReadOptions = {}): OnnxModel {
  if (src.size > ONNX_MAX_BYTES) throw new LimitError('onnx-size', `${src.size} bytes: protobuf cannot parse a model of 2 GiB or more`);
  const r = new ProtoReader(src, { deadline: opts.deadline ?? Infinity, maxDepth: opts.maxDepth ?? 100 });
  return decodeMessage(r, modelSchema(), 0, src.size) as OnnxModel;
}

// ModelProto fields and their wire types, for identification by content.
const MODEL_FIELDS = new Map([[1, WIRE_VARINT], [2, WIRE_LEN], [3, WIRE_LEN], [4, WIRE_LEN], [5, WIRE_VARINT], [6, WIRE_LEN], [7, WIRE_LEN], [8, WIRE_LEN], [14, WIRE_LEN], [20, WIRE_LEN], [25, WIRE_LEN], [26, WIRE_LEN]]);
// Every GraphProto field is length-delimited.
const GRAPH_FIELDS = new Set([1, 2, 5, 10, 11, 12, 13, 14, 15, 16]);

/**
 * True when the first bytes read as the top-level fields of a ModelProto: known field numbers with
 * their wire types, lengths inside the file, printable producer strings, a graph that opens with a
 * GraphProto field. A real file starts with ir_version (field 1); a file named .onnx may start elsewhere.
 */
export function looksLikeOnnx(head: Uint8Array, size: number, namedOnnx: boolean): boolean {
  let p = 0;
  let fields = 0;
  while (p < head.length) {
    const tag = varintAt(head, p);
    if (!tag || tag.value > 0xffffffff) return false;
    const field = Math.floor(tag.value / 8);
    const wire = tag.value % 8;
    if (MODEL_FIELDS.get(field) !== wire) return false;
    p = tag.next;
    if (wire === WIRE_VARINT) {
      const v = varintAt(head, p);
      if (!v) return fields > 0 && p >= head.length - 10 && head.length < size;
      // IR versions so far run 1–11 (onnx 1.17); a little room for the next ones.
      if (fields === 0 && field === 1 && (v.value < 1 || v.value > 16)) return false;
      p = v.next;
    } else {
      const len = varintAt(head, p);
      if (!len) return false;
      // A graph past the end of the file: a truncated model, once ir_version has opened it.
      if (len.next + len.value > size) return fields > 0 && field === 7;
      const start = len.next;
      const end = start + len.value;
      const visible = head.subarray(start, Math.min(end, head.length));
      if ((field === 2 || field === 3 || field === 4) && (len.value > 4096 || visible.some((b) => b < 0x20 || b === 0x7f))) return false;
      if (field === 7 && visible.length > 0 && ((visible[0] & 7) !== WIRE_LEN || !GRAPH_FIELDS.has(visible[0] >> 3))) return false;
      p = end;
    }
    if (fields === 0 && field !== 1 && !namedOnnx) return false;
    fields++;
  }
  return fields >= 2 || (fields === 1 && p === size);
}


/** Where a graph sits in the model, for messages: "graph", "graph/node[3 Loop].body", "function local.Foo". */
export interface OnnxGraphSite {
  graph: OnnxGraph | { node?: OnnxNode[] };
  where: string;
  /** The function the nodes belong to, if any (its opset imports apply). */
  fn: OnnxFunction | null;
}

/** Every graph of the model: the main graph, training graphs, function bodies, and all attribute subgraphs. */
export function onnxGraphs(model: OnnxModel): OnnxGraphSite[] {
  const out: OnnxGraphSite[] = [];
  const visit = (graph: OnnxGraph | { node?: OnnxNode[] }, where: string, fn: OnnxFunction | null) => {
    out.push({ graph, where, fn });
    (graph.node ?? []).forEach((n, i) => {
      for (const a of n.attribute ?? []) {
        const at = `${where}/node[${i} ${n.op_type ?? '?'}].${a.name ?? '?'}`;
        if (a.g) visit(a.g, at, fn);
        (a.graphs ?? []).forEach((g, j) => visit(g, `${at}[${j}]`, fn));
      }
    });
  };
  if (model.graph) visit(model.graph, 'graph', null);
  (model.training_info ?? []).forEach((t, i) => {
    if (t.initialization) visit(t.initialization, `training_info[${i}].initialization`, null);
    if (t.algorithm) visit(t.algorithm, `training_info[${i}].algorithm`, null);
  });
  for (const f of model.functions ?? []) {
    const where = `function ${f.domain ?? ''}.${f.name ?? '?'}`;
    visit(f, where, f);
    for (const a of f.attribute_proto ?? []) {
      if (a.g) visit(a.g, `${where}.${a.name ?? '?'}`, f);
      (a.graphs ?? []).forEach((g, j) => visit(g, `${where}.${a.name ?? '?'}[${j}]`, f));
    }
  }
  return out;
}

/** Every TensorProto of the model with where it sits: initializers, sparse parts, attribute tensors. */
export function onnxTensors(model: OnnxModel): Array<{ tensor: OnnxTensor; where: string; initializer: boolean }> {
  const out: Array<{ tensor: OnnxTensor; where: string; initializer: boolean }> = [];
  const sparse = (s: OnnxSparseTensor, where: string, initializer: boolean) => {
    if (s.values) out.push({ tensor: s.values, where: `${where}.values`, initializer });
    if (s.indices) out.push({ tensor: s.indices, where: `${where}.indices`, initializer });
  };
  const attrs = (list: OnnxAttribute[] | undefined, where: string) => {
    for (const a of list ?? []) {
      const at = `${where}.${a.name ?? '?'}`;
      if (a.t) out.push({ tensor: a.t, where: at, initializer: false });
      (a.tensors ?? []).forEach((t, j) => out.push({ tensor: t, where: `${at}[${j}]`, initializer: false }));
      if (a.sparse_tensor) sparse(a.sparse_tensor, at, false);
      (a.sparse_tensors ?? []).forEach((s, j) => sparse(s, `${at}[${j}]`, false));
    }
  };
  for (const site of onnxGraphs(model)) {
    const g = site.graph as OnnxGraph;
    for (const t of g.initializer ?? []) out.push({ tensor: t, where: `${site.where} initializer`, initializer: true });
    (g.sparse_initializer ?? []).forEach((s, i) => sparse(s, `${site.where} sparse_initializer[${i}]`, true));
    (g.node ?? []).forEach((n, i) => attrs(n.attribute, `${site.where}/node[${i} ${n.op_type ?? '?'}]`));
  }
  for (const f of model.functions ?? []) attrs(f.attribute_proto, `function ${f.domain ?? ''}.${f.name ?? '?'}`);
  return out;
}
