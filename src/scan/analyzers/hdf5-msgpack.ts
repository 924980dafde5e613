// HDF5 (legacy Keras .h5 models, Keras 3 model.weights.h5, plain scientific data) and Flax msgpack
// checkpoints. For HDF5 only the root group's attributes are read — Keras keeps its model_config and
// training_config JSON there — and run through the Keras config check; datasets are never read.
// Flax checkpoints are decoded as data (bin/ext payloads skipped) and checked to be a plain state dict
// of arrays and scalars.
import { FormatError } from '../../formats/errors.ts';
import { findHdf5Signature, looksLikeHdf5, readRootAttributes, type Hdf5Attribute } from '../../formats/hdf5/index.ts';
import { decodeMsgpack, startsWithMsgpackMap, type MsgNode } from '../../formats/msgpack/index.ts';
import { LimitError } from '../../formats/errors.ts';
import { SliceSource, readAll } from '../../formats/source.ts';
import { checkKerasConfig } from '../checks/keras-hydra.ts';
import type { Entry, InputScan } from '../context.ts';
import type { Analyzer } from './types.ts';
import { looksLikeText } from './text.ts';

const HDF5_NAME = /\.(h5|hdf5|he5)$/i;
/** Root attributes Keras parses as JSON when it loads a legacy .h5 model. */
const KERAS_JSON_ATTRS = ['model_config', 'training_config'];

export const hdf5Analyzer: Analyzer = {
  id: 'hdf5',
  version: 1,
  // The signature may sit after a user block (512, 1024, … bytes); beyond the head, only for .h5 names.
  detect: (head, entry) => looksLikeHdf5(head) || (HDF5_NAME.test(entry.name) && findHdf5Signature(entry.source) !== null),
  async analyze(entry, input) {
    let attributes: Hdf5Attribute[];
    try {
      const root = readRootAttributes(entry.source, { deadline: input.deadline });
      attributes = root.attributes;
      if (root.superblock.offset > 0) {
        input.report(entry, {
          ruleId: 'MG-HDF5-002',
          offset: 0,
          message: `The HDF5 data starts after a ${root.superblock.offset}-byte user block; other tools may read those bytes as a different format.`,
          evidence: { userBlockBytes: root.superblock.offset },
        });
      }
    } catch (e) {
      if (!(e instanceof FormatError)) throw e;
      entry.row.status = 'error';
      input.report(entry, { ruleId: 'MG-HDF5-001', offset: e.offset, message: `HDF5 root group could not be read: ${e.message}; Keras configs stored in it were not inspected.`, evidence: { code: e.code } });
      return;
    }
    for (const name of KERAS_JSON_ATTRS) {
      const a = attributes.find((x) => x.name === name);
      if (a) checkKerasAttribute(entry, input, a);
    }
  },
};

function checkKerasAttribute(entry: Entry, input: InputScan, a: Hdf5Attribute): void {
  const path = `${entry.path}!<${a.name}>`;
  if (a.value.kind === 'unsupported') {
    entry.row.status = 'error';
    input.report(entry, { ruleId: 'MG-HDF5-001', path, offset: a.offset, message: `Attribute "${a.name}" uses a feature this reader does not support (${a.value.reason}); it was not inspected.`, evidence: { attribute: a.name } });
    return;
  }
  if (a.value.kind !== 'string' || a.value.values.length !== 1) {
    input.report(entry, { ruleId: 'MG-KERAS-005', path, offset: a.offset, message: `Attribute "${a.name}" is not a single string, so Keras cannot load it as a config.`, evidence: { attribute: a.name, shape: a.shape.map(String) } });
    return;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(a.value.values[0]);
  } catch {
    input.report(entry, { ruleId: 'MG-KERAS-005', path, offset: a.offset, message: `Attribute "${a.name}" is not valid JSON, so Keras cannot load it as a config.`, evidence: { attribute: a.name } });
    return;
  }
  checkKerasConfig(doc, { input, entry, path });
}

// ---- Flax msgpack --------------------------------------------------------------------------------

/** Flax's ext codes (flax.serialization._MsgpackExtType). */
const EXT_NDARRAY = 1;
const EXT_COMPLEX = 2;
const EXT_NPSCALAR = 3;

/** numpy/ml_dtypes names Flax writes, with their item sizes. */
const DTYPES: Record<string, number> = {
  bool: 1, int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, int64: 8, uint64: 8,
  float16: 2, float32: 4, float64: 8, bfloat16: 2, complex64: 8, complex128: 16,
  int2: 1, uint2: 1, int4: 1, uint4: 1, float4_e2m1fn: 1, float8_e3m4: 1, float8_e4m3: 1, float8_e4m3fn: 1, float8_e4m3fnuz: 1,
  float8_e4m3b11fnuz: 1, float8_e5m2: 1, float8_e5m2fnuz: 1, float8_e8m0fnu: 1,
};

export const flaxMsgpackAnalyzer: Analyzer = {
  id: 'msgpack',
  version: 1,
  // msgpack has no magic: only files named *.msgpack that start with a map are taken.
  detect: (head, entry) => /\.msgpack$/i.test(entry.name) && startsWithMsgpackMap(head),
  async analyze(entry, input) {
    let decoded: ReturnType<typeof decodeMsgpack>;
    try {
      decoded = decodeMsgpack(entry.source, 0, entry.source.size, { deadline: input.deadline });
    } catch (e) {
      if (!(e instanceof FormatError)) throw e;
      entry.row.status = 'error';
      input.report(entry, { ruleId: 'MG-FLAX-004', offset: e.offset, message: `msgpack could not be decoded: ${e.message}.`, evidence: { code: e.code } });
      return;
    }
    const problems = new FlaxProblems(entry, input);
    if (decoded.end < entry.source.size) {
      problems.add('MG-FLAX-003', decoded.end, `${entry.source.size - decoded.end} bytes follow the msgpack value; msgpack.unpackb (and flax.serialization.from_bytes) refuse the file`, 'medium');
    }
    checkState(entry, input, decoded.root, '', problems);
  },
};

class FlaxProblems {
  private count = new Map<string, number>();
  constructor(
    readonly entry: Entry,
    readonly input: InputScan,
  ) {}
  add(ruleId: string, offset: number, message: string, severity?: 'low' | 'medium' | 'high'): void {
    const n = (this.count.get(ruleId) ?? 0) + 1;
    this.count.set(ruleId, n);
    if (n <= 20) this.input.report(this.entry, { ruleId, offset, message: `${message}.`, severity });
  }
}

/** Walks the state tree (bounded by the decoder's depth limit), checking every leaf. */
function checkState(entry: Entry, input: InputScan, n: MsgNode, path: string, p: FlaxProblems): void {
  const at = path || '(top level)';
  switch (n.t) {
    case 'map':
      for (const [k, v] of n.entries) {
        if (k.t !== 'str') p.add('MG-FLAX-003', k.offset, `Key of type ${k.t} at ${at}; Flax state dicts have string keys`);
        checkState(entry, input, v, path ? `${path}/${k.t === 'str' ? k.v : '?'}` : k.t === 'str' ? k.v : '?', p);
      }
      return;
    case 'arr':
      n.items.forEach((x, i) => checkState(entry, input, x, `${path}[${i}]`, p));
      return;
    case 'bin': {
      const head = entry.source.read(n.data, 2);
      const pickle = head[0] === 0x80 && head[1] >= 2 && head[1] <= 5;
      p.add('MG-FLAX-003', n.offset, `Raw bytes value (${n.len} bytes) at ${at}; Flax stores arrays as ext type 1, not bare bytes${pickle ? ', and these bytes start like a pickle' : ''}`, pickle ? 'medium' : undefined);
      return;
    }
    case 'ext':
      checkExt(entry, input, n, at, p);
      return;
    default:
      return; // nil, bool, int, float, str: scalars
  }
}

function checkExt(entry: Entry, input: InputScan, n: Extract<MsgNode, { t: 'ext' }>, at: string, p: FlaxProblems): void {
  if (n.type !== EXT_NDARRAY && n.type !== EXT_NPSCALAR && n.type !== EXT_COMPLEX) {
    p.add('MG-FLAX-001', n.offset, `Extension type ${n.type} (${n.len} bytes) at ${at}; Flax writes only types 1-3 (ndarray, complex, numpy scalar)`);
    return;
  }
  let inner: MsgNode;
  try {
    const d = decodeMsgpack(new SliceSource(entry.source, n.data, n.len), 0, n.len, { maxDepth: 4, maxNodes: 10_000, deadline: input.deadline });
    if (d.end !== n.len) throw new FormatError('MSGPACK_TRAILING', `${n.len - d.end} bytes after the value`);
    inner = d.root;
  } catch (e) {
    if (!(e instanceof FormatError)) throw e;
    p.add('MG-FLAX-002', n.offset, `Extension type ${n.type} at ${at} does not hold a valid msgpack value: ${e.message}`);
    return;
  }
  if (n.type === EXT_COMPLEX) {
    const ok = inner.t === 'arr' && inner.items.length === 2 && inner.items.every((x) => x.t === 'float' || x.t === 'int');
    if (!ok) p.add('MG-FLAX-002', n.offset, `Complex value at ${at} is not (real, imag)`);
    return;
  }
  const parts = inner.t === 'arr' ? inner.items : [];
  const [shapeNode, dtypeNode, bufNode] = n.type === EXT_NDARRAY ? parts : [null, parts[0], parts[1]];
  const want = n.type === EXT_NDARRAY ? 3 : 2;
  if (parts.length !== want || dtypeNode?.t !== 'str' || bufNode?.t !== 'bin') {
    p.add('MG-FLAX-002', n.offset, `${n.type === EXT_NDARRAY ? 'Array' : 'Scalar'} at ${at} is not ${n.type === EXT_NDARRAY ? '(shape, dtype, bytes)' : '(dtype, bytes)'}`);
    return;
  }
  const item = DTYPES[dtypeNode.v];
  if (item === undefined) {
    const obj = /^(object|O|V\d*|void)/.test(dtypeNode.v) || dtypeNode.v.includes(',') || dtypeNode.v.startsWith('[');
    p.add('MG-FLAX-002', n.offset, `${obj ? 'Object/structured' : 'Unknown'} dtype "${dtypeNode.v.slice(0, 60)}" at ${at}; Flax writes numeric arrays only (numpy refuses to build object arrays from a buffer)`);
    return;
  }
  let elements = 1;
  if (shapeNode) {
    if (shapeNode.t !== 'arr' || !shapeNode.items.every((x) => x.t === 'int' && x.v >= 0)) {
      p.add('MG-FLAX-002', n.offset, `Array at ${at} has a shape that is not a list of non-negative integers`);
      return;
    }
    for (const x of shapeNode.items) elements *= (x as { v: number }).v;
  }
  if (elements * item !== bufNode.len) {
    p.add('MG-FLAX-002', n.offset, `Array at ${at} declares ${elements} × ${item} bytes of ${dtypeNode.v} but holds ${bufNode.len}`);
  }
}

// ---- .keras config.json that the text analyzer would not read ------------------------------------

/** What the text analyzer reads (its own limit); larger configs would otherwise go unread. */
const TEXT_LIMIT = 32 << 20;
const MAX_CONFIG_BYTES = 256 << 20;
const KERAS_CONFIG = /\.keras!config\.json$/i;

/**
 * Keras 3 reads config.json as bytes and calls json.loads(), which accepts a UTF-8 BOM and UTF-16/32
 * (Python's json.detect_encoding). Such a file — or one larger than the text analyzer reads — would
 * escape the text checks, so it is decoded the way Python does and checked here.
 */
export const kerasConfigAnalyzer: Analyzer = {
  id: 'keras-config',
  version: 1,
  detect: (head, entry) => KERAS_CONFIG.test(entry.path) && (entry.source.size > TEXT_LIMIT || pythonJsonEncoding(head) !== 'utf-8' || !looksLikeText(head)),
  async analyze(entry, input) {
    if (entry.source.size > MAX_CONFIG_BYTES) throw new LimitError('config-bytes', `config.json of ${entry.source.size} bytes (limit ${MAX_CONFIG_BYTES})`);
    const bytes = readAll(entry.source);
    const encoding = pythonJsonEncoding(bytes);
    entry.row.format = 'json';
    if (encoding !== 'utf-8') {
      input.report(entry, { ruleId: 'MG-KERAS-005', message: `config.json is encoded as ${encoding}; Keras's json.loads accepts it, tools that expect UTF-8 text do not.`, evidence: { encoding } });
    }
    let doc: unknown;
    try {
      doc = JSON.parse(decodeAs(bytes, encoding));
    } catch {
      input.report(entry, { ruleId: 'MG-KERAS-005', message: 'config.json is not valid JSON, so Keras cannot load this model.', evidence: { encoding } });
      return;
    }
    checkKerasConfig(doc, { input, entry, path: entry.path });
  },
};

type JsonEncoding = 'utf-8' | 'utf-8-sig' | 'utf-16le' | 'utf-16be' | 'utf-32le' | 'utf-32be';

/** json.detect_encoding() of CPython: BOMs first, then the NUL pattern of the first four bytes. */
function pythonJsonEncoding(b: Uint8Array): JsonEncoding {
  if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return 'utf-8-sig';
  if (b[0] === 0xff && b[1] === 0xfe && b[2] === 0 && b[3] === 0) return 'utf-32le';
  if (b[0] === 0 && b[1] === 0 && b[2] === 0xfe && b[3] === 0xff) return 'utf-32be';
  if (b[0] === 0xff && b[1] === 0xfe) return 'utf-16le';
  if (b[0] === 0xfe && b[1] === 0xff) return 'utf-16be';
  if (b.length >= 4) {
    if (b[0] === 0) return b[1] === 0 ? 'utf-32be' : 'utf-16be';
    if (b[1] === 0) return b[2] === 0 && b[3] === 0 ? 'utf-32le' : 'utf-16le';
  } else if (b.length === 2) {
    if (b[0] === 0) return 'utf-16be';
    if (b[1] === 0) return 'utf-16le';
  }
  return 'utf-8';
}

function decodeAs(b: Uint8Array, enc: JsonEncoding): string {
  if (enc === 'utf-8' || enc === 'utf-8-sig') return new TextDecoder('utf-8', { fatal: true }).decode(b); // strips the BOM
  if (enc === 'utf-16le' || enc === 'utf-16be') return new TextDecoder(enc, { fatal: true }).decode(b);
  if (b.length % 4) throw new FormatError('UTF32', 'UTF-32 text of a length that is not a multiple of 4');
  const view = new DataView(b.buffer, b.byteOffset, b.length);
  const parts: string[] = [];
  for (let i = 0; i < b.length; i += 4) {
    const cp = view.getUint32(i, enc === 'utf-32le');
    if (cp > 0x10ffff) throw new FormatError('UTF32', 'invalid UTF-32 code point');
    if (!(i === 0 && cp === 0xfeff)) parts.push(String.fromCodePoint(cp));
  }
  return parts.join('');
}

export const hdf5MsgpackAnalyzers: Analyzer[] = [hdf5Analyzer, flaxMsgpackAnalyzer, kerasConfigAnalyzer];
