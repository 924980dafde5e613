// TensorFlow protobufs of a SavedModel folder — saved_model.pb (SavedModel), keras_metadata.pb
// (Keras SavedMetadata), fingerprint.pb (FingerprintDef) and frozen GraphDef .pb files — read with the
// schema-less wire walker by field number (tensorflow/core/protobuf/saved_model.proto, meta_graph.proto,
// saved_object_graph.proto; core/framework/graph.proto, node_def.proto, function.proto, attr_value.proto,
// tensor.proto; keras/protobuf/saved_metadata.proto). Only what a scan needs is kept: op names, node
// inputs, string constants, asset file names and Keras metadata JSON; tensor contents are skipped.
import { FormatError } from '../errors.ts';
import { ProtoReader, WIRE_LEN, WIRE_VARINT, varintAt, type FieldCursor } from '../protobuf/index.ts';
import type { ByteSource } from '../source.ts';

export interface TfAttr {
  /** `s` values: the string attr, list(string) items, or a string tensor's values (first few, truncated). */
  strings: string[];
  /** Function names the attr refers to (`func`, list(func)). */
  funcs: string[];
}

export interface TfNode {
  name: string;
  op: string;
  inputs: string[];
  attrs: Map<string, TfAttr>;
  offset: number;
}

export interface TfGraph {
  /** "graph" for the MetaGraph's GraphDef, "function NAME" for a library function body. */
  where: string;
  nodes: TfNode[];
}

export interface TfUserObject {
  identifier: string;
  metadata: string;
  offset: number;
}

export interface TfMetaGraph {
  tags: string[];
  tensorflowVersion: string;
  graphs: TfGraph[];
  assets: Array<{ filename: string; offset: number }>;
  userObjects: TfUserObject[];
}

export interface SavedModelInfo {
  schemaVersion: number;
  metaGraphs: TfMetaGraph[];
}

export interface KerasMetadataNode {
  nodeId: number;
  nodePath: string;
  identifier: string;
  metadata: string;
  offset: number;
}

export interface TfReadOptions {
  deadline?: number;
}

// String constants and attrs are evidence, not data: a few of each, each shortened.
const MAX_STRINGS = 16;
const MAX_STRING_BYTES = 4096;
/** Longest Keras metadata JSON read (Keras writes one per layer, with the whole config for models). */
const MAX_METADATA = 16 << 20;
const utf8 = new TextDecoder('utf-8');

function reader(src: ByteSource, opts: TfReadOptions): ProtoReader {
  if (src.size > 2 ** 31 - 1) throw new FormatError('tf-size', `${src.size} bytes: protobuf cannot parse a message of 2 GiB or more`);
  return new ProtoReader(src, { deadline: opts.deadline ?? Infinity });
}

/** Decodes saved_model.pb. */
export function readSavedModel(src: ByteSource, opts: TfReadOptions = {}): SavedModelInfo {
  const r = reader(src, opts);
  const out: SavedModelInfo = { schemaVersion: 0, metaGraphs: [] };
  const c = r.message(0, src.size, 0);
  while (c.next()) {
    if (c.field === 1 && c.wire === WIRE_VARINT) out.schemaVersion = c.signed;
    else if (c.field === 2 && c.wire === WIRE_LEN) out.metaGraphs.push(metaGraph(c.sub()));
  }
  return out;
}

/** Decodes a frozen GraphDef (.pb written by tf.io.write_graph / freeze_graph). */
export function readGraphDef(src: ByteSource, opts: TfReadOptions = {}): TfGraph[] {
  const r = reader(src, opts);
  const graphs: TfGraph[] = [{ where: 'graph', nodes: [] }];
  graphDef(r.message(0, src.size, 0), graphs);
  return graphs;
}

function metaGraph(c: FieldCursor): TfMetaGraph {
  const m: TfMetaGraph = { tags: [], tensorflowVersion: '', graphs: [], assets: [], userObjects: [] };
  const main: TfGraph = { where: 'graph', nodes: [] };
  m.graphs.push(main);
  while (c.next()) {
    if (c.wire !== WIRE_LEN) continue;
    if (c.field === 1) {
      const info = c.sub();
      while (info.next()) {
        if (info.wire !== WIRE_LEN) continue;
        if (info.field === 4) m.tags.push(short(info));
        else if (info.field === 5) m.tensorflowVersion = short(info);
      }
    } else if (c.field === 2) graphDef(c.sub(), m.graphs);
    else if (c.field === 6) {
      // AssetFileDef { TensorInfo tensor_info = 1; string filename = 2; }
      const a = c.sub();
      while (a.next()) if (a.field === 2 && a.wire === WIRE_LEN) m.assets.push({ filename: short(a), offset: a.start });
    } else if (c.field === 7) {
      // SavedObjectGraph { repeated SavedObject nodes = 1; } SavedObject { SavedUserObject user_object = 4; }
      const g = c.sub();
      while (g.next()) {
        if (g.field !== 1 || g.wire !== WIRE_LEN) continue;
        const o = g.sub();
        while (o.next()) {
          if (o.field !== 4 || o.wire !== WIRE_LEN) continue;
          const u = o.sub();
          const obj: TfUserObject = { identifier: '', metadata: '', offset: o.start };
          while (u.next()) {
            if (u.wire !== WIRE_LEN) continue;
            if (u.field === 1) obj.identifier = short(u);
            else if (u.field === 3) obj.metadata = u.text(MAX_METADATA);
          }
          if (obj.metadata) m.userObjects.push(obj);
        }
      }
    }
  }
  return m;
}

/** GraphDef { repeated NodeDef node = 1; FunctionDefLibrary library = 2; } — nodes go to graphs[0]. */
function graphDef(c: FieldCursor, graphs: TfGraph[]): void {
  while (c.next()) {
    if (c.wire !== WIRE_LEN) continue;
    if (c.field === 1) graphs[0].nodes.push(nodeDef(c));
    else if (c.field === 2) {
      // FunctionDefLibrary { repeated FunctionDef function = 1; }
      const lib = c.sub();
      while (lib.next()) if (lib.field === 1 && lib.wire === WIRE_LEN) graphs.push(functionDef(lib.sub()));
    }
  }
}

/** FunctionDef { OpDef signature = 1; repeated NodeDef node_def = 3; } OpDef { string name = 1; } */
function functionDef(c: FieldCursor): TfGraph {
  const g: TfGraph = { where: 'function ?', nodes: [] };
  while (c.next()) {
    if (c.wire !== WIRE_LEN) continue;
    if (c.field === 1) {
      const sig = c.sub();
      while (sig.next()) if (sig.field === 1 && sig.wire === WIRE_LEN) g.where = `function ${short(sig)}`;
    } else if (c.field === 3) g.nodes.push(nodeDef(c));
  }
  return g;
}

/** NodeDef { string name = 1; string op = 2; repeated string input = 3; map<string, AttrValue> attr = 5; } */
function nodeDef(outer: FieldCursor): TfNode {
  const n: TfNode = { name: '', op: '', inputs: [], attrs: new Map(), offset: outer.start };
  const c = outer.sub();
  while (c.next()) {
    if (c.wire !== WIRE_LEN) continue;
    if (c.field === 1) n.name = short(c);
    else if (c.field === 2) n.op = short(c);
    else if (c.field === 3) n.inputs.push(short(c));
    else if (c.field === 5) {
      // map entry { string key = 1; AttrValue value = 2; }
      const e = c.sub();
      let key = '';
      let value: TfAttr = { strings: [], funcs: [] };
      while (e.next()) {
        if (e.wire !== WIRE_LEN) continue;
        if (e.field === 1) key = short(e);
        else if (e.field === 2) value = attrValue(e.sub());
      }
      n.attrs.set(key, value);
    }
  }
  return n;
}

/**
 * AttrValue { ListValue list = 1; bytes s = 2; TensorProto tensor = 8; NameAttrList func = 10; }
 * ListValue { repeated bytes s = 2; repeated TensorProto tensor = 8; repeated NameAttrList func = 9; }
 */
function attrValue(c: FieldCursor): TfAttr {
  const a: TfAttr = { strings: [], funcs: [] };
  while (c.next()) {
    if (c.wire !== WIRE_LEN) continue;
    if (c.field === 2) addString(a.strings, c);
    else if (c.field === 8) tensorStrings(c.sub(), a.strings);
    else if (c.field === 10) a.funcs.push(funcName(c.sub()));
    else if (c.field === 1) {
      const l = c.sub();
      while (l.next()) {
        if (l.wire !== WIRE_LEN) continue;
        if (l.field === 2) addString(a.strings, l);
        else if (l.field === 8) tensorStrings(l.sub(), a.strings);
        else if (l.field === 9) a.funcs.push(funcName(l.sub()));
      }
    }
  }
  return a;
}

/** TensorProto { repeated bytes string_val = 8; } — the strings of a DT_STRING constant. */
function tensorStrings(c: FieldCursor, out: string[]): void {
  while (c.next()) if (c.field === 8 && c.wire === WIRE_LEN) addString(out, c);
}

/** NameAttrList { string name = 1; } */
function funcName(c: FieldCursor): string {
  let name = '';
  while (c.next()) if (c.field === 1 && c.wire === WIRE_LEN) name = short(c);
  return name;
}

function addString(out: string[], c: FieldCursor): void {
  if (out.length < MAX_STRINGS) out.push(short(c));
}

/** A string field, at most MAX_STRING_BYTES of it (names, ops and paths; longer is itself suspicious). */
function short(c: FieldCursor): string {
  const s = utf8.decode(c.r.view(c.start, Math.min(c.length, MAX_STRING_BYTES)));
  return c.length > MAX_STRING_BYTES ? `${s}…` : s;
}

/** Decodes keras_metadata.pb: SavedMetadata { repeated SavedObject nodes = 1; }. */
export function readKerasMetadata(src: ByteSource, opts: TfReadOptions = {}): KerasMetadataNode[] {
  const r = reader(src, opts);
  const out: KerasMetadataNode[] = [];
  const c = r.message(0, src.size, 0);
  while (c.next()) {
    if (c.field !== 1 || c.wire !== WIRE_LEN) continue;
    // SavedObject { int32 node_id = 2; string node_path = 3; string identifier = 4; string metadata = 5; }
    const o = c.sub();
    const node: KerasMetadataNode = { nodeId: 0, nodePath: '', identifier: '', metadata: '', offset: c.start };
    while (o.next()) {
      if (o.field === 2 && o.wire === WIRE_VARINT) node.nodeId = o.signed;
      else if (o.wire !== WIRE_LEN) continue;
      else if (o.field === 3) node.nodePath = short(o);
      else if (o.field === 4) node.identifier = short(o);
      else if (o.field === 5) node.metadata = o.text(MAX_METADATA);
    }
    out.push(node);
  }
  return out;
}

/**
 * Walks the top level of a small metadata protobuf — fingerprint.pb (FingerprintDef: checksums, a
 * VersionDef) or tfhub_module.pb (ModuleDef: a format enum) — to prove it is well formed.
 */
export function readMetadataProto(src: ByteSource, opts: TfReadOptions = {}): { fields: number } {
  const r = reader(src, opts);
  const c = r.message(0, src.size, 0);
  let fields = 0;
  while (c.next()) fields++;
  return { fields };
}

// --- identification by content -------------------------------------------------------------------

export type TfProtoKind = 'savedmodel' | 'keras-metadata' | 'fingerprint' | 'hub-module' | 'graphdef';

/**
 * What a TensorFlow protobuf is, from its first bytes and (for the kinds without a distinctive start)
 * its name. saved_model.pb opens with saved_model_schema_version = 1 then a MetaGraphDef; the others
 * are recognised only under their own file names.
 */
export function sniffTfProto(head: Uint8Array, size: number, name: string): TfProtoKind | null {
  const base = name.split(/[\\/]/).pop()!.toLowerCase();
  const fields = topFields(head, size);
  if (!fields || fields.length === 0) return null;
  const [first, second] = fields;
  // SavedModel { int64 saved_model_schema_version = 1; repeated MetaGraphDef meta_graphs = 2; }
  const metaStart = (f: TopField | undefined) => f !== undefined && f.field === 2 && f.wire === WIRE_LEN && (f.firstByte === null || META_GRAPH_TAGS.has(f.firstByte));
  if (first.field === 1 && first.wire === WIRE_VARINT && first.value === 1 && metaStart(second)) return 'savedmodel';
  if (base === 'saved_model.pb' && metaStart(first)) return 'savedmodel';
  if (base === 'keras_metadata.pb' && fields.every((f) => f.field === 1 && f.wire === WIRE_LEN)) return 'keras-metadata';
  if (base === 'tfhub_module.pb' && fields.every((f) => f.field === 1 && f.wire === WIRE_VARINT)) return 'hub-module';
  if (base === 'fingerprint.pb' && fields.every((f) => (f.field >= 1 && f.field <= 5 && f.wire === WIRE_VARINT) || (f.field === 6 && f.wire === WIRE_LEN))) return 'fingerprint';
  // GraphDef { repeated NodeDef node = 1; FunctionDefLibrary library = 2; int32 version = 3; VersionDef versions = 4; }
  // Only under a .pb name: a NodeDef opens with its name (field 1), which many binary things resemble.
  if (base.endsWith('.pb') && first.field === 1 && first.wire === WIRE_LEN && first.firstByte === 0x0a && fields.every((f) => GRAPH_FIELD_WIRES.get(f.field) === f.wire)) return 'graphdef';
  return null;
}

// MetaGraphDef fields 1–7 are all length-delimited.
const META_GRAPH_TAGS = new Set([1, 2, 3, 4, 5, 6, 7].map((f) => (f << 3) | WIRE_LEN));
const GRAPH_FIELD_WIRES = new Map([[1, WIRE_LEN], [2, WIRE_LEN], [3, WIRE_VARINT], [4, WIRE_LEN]]);

interface TopField {
  field: number;
  wire: number;
  value: number;
  /** First byte of a length-delimited field's body, when it is inside the head. */
  firstByte: number | null;
}

/** The top-level fields visible in `head`; null when the bytes are not protobuf. */
function topFields(head: Uint8Array, size: number): TopField[] | null {
  const out: TopField[] = [];
  let p = 0;
  while (p < head.length && out.length < 64) {
    const tag = varintAt(head, p);
    if (!tag) return head.length < size ? out : null;
    const field = Math.floor(tag.value / 8);
    const wire = tag.value % 8;
    if (field === 0 || tag.value > 0xffffffff) return null;
    p = tag.next;
    if (wire === WIRE_VARINT) {
      const v = varintAt(head, p);
      if (!v) return head.length < size ? out : null;
      out.push({ field, wire, value: v.value, firstByte: null });
      p = v.next;
    } else if (wire === WIRE_LEN) {
      const len = varintAt(head, p);
      if (!len) return head.length < size ? out : null;
      if (len.next + len.value > size) return out.length > 0 ? [...out, { field, wire, value: len.value, firstByte: head[len.next] ?? null }] : null;
      out.push({ field, wire, value: len.value, firstByte: len.value > 0 && len.next < head.length ? head[len.next] : null });
      p = len.next + len.value;
    } else if (wire === 1 || wire === 5) {
      p += wire === 1 ? 8 : 4;
      out.push({ field, wire, value: 0, firstByte: null });
    } else return null;
  }
  return out;
}

