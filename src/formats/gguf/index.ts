// GGUF (llama.cpp's model container, versions 1-3): "GGUF", a version, tensor and key/value counts, typed
// key/value metadata (scalars, strings, arrays of any type), tensor infos, then an aligned data section.
// The risks are parser bugs in loaders (llama.cpp has had heap overflows from declared lengths and tensor
// extents) and what the metadata carries (chat templates rendered with Jinja). This parser reads only the
// header region, checks every declared length and count against the bytes that exist before using it,
// never reads tensor data, and keeps everything it parsed when it has to stop, so a caller can still
// inspect the metadata that came before a break.
import { FormatError, LimitError } from '../errors.ts';
import type { ByteSource } from '../source.ts';

export const GGUF_VALUE_TYPES = ['UINT8', 'INT8', 'UINT16', 'INT16', 'UINT32', 'INT32', 'FLOAT32', 'BOOL', 'STRING', 'ARRAY', 'UINT64', 'INT64', 'FLOAT64'] as const;
const T_STRING = 8;
const T_ARRAY = 9;
/** Byte size of each scalar value type (0 for string and array). */
const SCALAR_SIZE = [1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8];

/** ggml tensor types: [name, elements per block, bytes per block] (ggml.h / gguf-py GGML_QUANT_SIZES). */
export const GGML_TYPES: ReadonlyMap<number, readonly [string, number, number]> = new Map([
  [0, ['F32', 1, 4]], [1, ['F16', 1, 2]], [2, ['Q4_0', 32, 18]], [3, ['Q4_1', 32, 20]],
  [6, ['Q5_0', 32, 22]], [7, ['Q5_1', 32, 24]], [8, ['Q8_0', 32, 34]], [9, ['Q8_1', 32, 36]],
  [10, ['Q2_K', 256, 84]], [11, ['Q3_K', 256, 110]], [12, ['Q4_K', 256, 144]], [13, ['Q5_K', 256, 176]],
  [14, ['Q6_K', 256, 210]], [15, ['Q8_K', 256, 292]], [16, ['IQ2_XXS', 256, 66]], [17, ['IQ2_XS', 256, 74]],
  [18, ['IQ3_XXS', 256, 98]], [19, ['IQ1_S', 256, 50]], [20, ['IQ4_NL', 32, 18]], [21, ['IQ3_S', 256, 110]],
  [22, ['IQ2_S', 256, 82]], [23, ['IQ4_XS', 256, 136]], [24, ['I8', 1, 1]], [25, ['I16', 1, 2]],
  [26, ['I32', 1, 4]], [27, ['I64', 1, 8]], [28, ['F64', 1, 8]], [29, ['IQ1_M', 256, 56]],
  [30, ['BF16', 1, 2]], [34, ['TQ1_0', 256, 54]], [35, ['TQ2_0', 256, 66]], [39, ['MXFP4', 32, 17]],
  [40, ['NVFP4', 64, 36]],
] as const);

export interface GgufArray {
  /** Element value type. */
  type: number;
  count: number;
  /** Levels of arrays nested below this one (0 for a flat array). */
  depth: number;
}

export type GgufValue = string | number | bigint | boolean | GgufArray;

export interface GgufKv {
  key: string;
  type: number;
  /** File offset of the key's length field. */
  offset: number;
  /** File offset of the value (for strings: of the string bytes, after the length). */
  valueOffset: number;
  value: GgufValue;
}

export interface GgufTensor {
  name: string;
  dims: bigint[];
  type: number;
  /** Relative to the data section. */
  offset: bigint;
  /** File offset of this tensor's info record. */
  infoOffset: number;
  /** Bytes of data, when the type is known and the first dimension is a whole number of blocks. */
  nbytes: bigint | null;
}

export type GgufProblemKind =
  | 'duplicate-key'
  | 'duplicate-tensor'
  | 'nested-array'
  | 'invalid-utf8'
  | 'bad-alignment'
  | 'unknown-tensor-type'
  | 'block-mismatch'
  | 'too-many-dims'
  | 'name-too-long'
  | 'misaligned'
  | 'overlap'
  | 'out-of-bounds'
  | 'trailing-bytes';

export interface GgufProblem {
  kind: GgufProblemKind;
  offset: number;
  detail: string;
}

export interface GgufInfo {
  version: number;
  littleEndian: boolean;
  tensorCount: bigint;
  kvCount: bigint;
  /** Key/value pairs parsed so far (all of them unless `error` is set). */
  kvs: GgufKv[];
  tensors: GgufTensor[];
  alignment: number;
  /** End of the tensor infos, and the aligned start of the data section (null when parsing stopped). */
  headerEnd: number | null;
  dataOffset: number | null;
  problems: GgufProblem[];
  /** Why parsing stopped before the end of the header, if it did. */
  error: FormatError | LimitError | null;
}

export interface GgufOptions {
  /** Largest header region (metadata + tensor infos) read; real headers with 256k-token vocabularies are ~10 MB. */
  maxHeaderBytes?: number;
  /** Largest key/value and tensor counts accepted. */
  maxCount?: number;
  /** Arrays of arrays nested deeper than this stop the parse (llama.cpp accepts none). */
  maxArrayDepth?: number;
  /** Called every few thousand steps, so a caller can enforce a deadline. */
  tick?: () => void;
}

const MAX_PROBLEMS = 64;
/** llama.cpp's GGML_MAX_NAME (names must be shorter) and GGML_MAX_DIMS. */
const GGML_MAX_NAME = 64;
const GGML_MAX_DIMS = 4;
/** More dimensions than this is not a tensor any writer produces; the parse stops. */
const MAX_DIMS = 8;

export function isGguf(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x47 && head[1] === 0x47 && head[2] === 0x55 && head[3] === 0x46;
}

/** Sequential reads over a ByteSource in 1 MiB windows; every read is checked against the bytes left. */
class Reader {
  pos = 0;
  private buf: Uint8Array = new Uint8Array(0);
  private view = new DataView(this.buf.buffer);
  private bufStart = 0;
  private static readonly CHUNK = 1 << 20;

  constructor(
    readonly src: ByteSource,
    readonly le: boolean,
    readonly limit: number,
  ) {}

  remaining(): number {
    return this.src.size - this.pos;
  }

  /** Throws unless `n` more bytes exist (in the file and inside the header budget). */
  require(n: number | bigint, what: string): void {
    if (BigInt(n) > BigInt(this.remaining())) {
      throw new FormatError('truncated', `${what} needs ${n} bytes at offset ${this.pos} but only ${this.remaining()} remain`, this.pos);
    }
    if (this.pos + Number(n) > this.limit) {
      throw new LimitError('header-bytes', `GGUF header region larger than ${this.limit} bytes`, this.pos);
    }
  }

  private window(n: number, what: string): number {
    this.require(n, what);
    if (this.pos < this.bufStart || this.pos + n > this.bufStart + this.buf.length) {
      this.bufStart = this.pos;
      this.buf = this.src.read(this.pos, Math.max(n, Math.min(Reader.CHUNK, this.remaining())));
      this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
      if (this.buf.length < n) throw new FormatError('truncated', `short read at offset ${this.pos}`, this.pos);
    }
    const at = this.pos - this.bufStart;
    this.pos += n;
    return at;
  }

  // window() may refill the buffer, so it is called before the view is read.
  u32(what: string): number {
    const at = this.window(4, what);
    return this.view.getUint32(at, this.le);
  }
  u64(what: string): bigint {
    const at = this.window(8, what);
    return this.view.getBigUint64(at, this.le);
  }

  scalar(type: number, what: string): number | bigint | boolean {
    const size = SCALAR_SIZE[type];
    if (!size) throw new FormatError('value-type', `value type ${type} is not a scalar`, this.pos);
    const at = this.window(size, what);
    const v = this.view;
    const le = this.le;
    switch (type) {
      case 0: return v.getUint8(at);
      case 1: return v.getInt8(at);
      case 2: return v.getUint16(at, le);
      case 3: return v.getInt16(at, le);
      case 4: return v.getUint32(at, le);
      case 5: return v.getInt32(at, le);
      case 6: return v.getFloat32(at, le);
      case 7: return v.getUint8(at) !== 0;
      case 10: return v.getBigUint64(at, le);
      case 11: return v.getBigInt64(at, le);
      default: return v.getFloat64(at, le);
    }
  }

  bytes(n: number, what: string): Uint8Array {
    if (n <= Reader.CHUNK) {
      const at = this.window(n, what);
      return this.buf.subarray(at, at + n);
    }
    this.require(n, what);
    const out = this.src.read(this.pos, n);
    if (out.length < n) throw new FormatError('truncated', `short read at offset ${this.pos}`, this.pos);
    this.pos += n;
    return out;
  }

  skip(n: number | bigint, what: string): void {
    this.require(n, what);
    this.pos += Number(n);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Lenient = new TextDecoder('utf-8');

export function parseGguf(src: ByteSource, opts: GgufOptions = {}): GgufInfo {
  const maxCount = opts.maxCount ?? 1_000_000;
  const maxDepth = opts.maxArrayDepth ?? 4;
  const tick = opts.tick ?? (() => {});
  let steps = 0;
  const step = (): void => {
    if ((++steps & 0xfff) === 0) tick();
  };

  const info: GgufInfo = {
    version: 0, littleEndian: true, tensorCount: 0n, kvCount: 0n, kvs: [], tensors: [], alignment: 32,
    headerEnd: null, dataOffset: null, problems: [], error: null,
  };
  const problem = (kind: GgufProblemKind, offset: number, detail: string): void => {
    if (info.problems.length < MAX_PROBLEMS) info.problems.push({ kind, offset, detail });
  };

  if (src.size < 8) {
    info.error = new FormatError('truncated', `a GGUF header needs at least 8 bytes, the file has ${src.size}`, 0);
    return info;
  }
  const head = src.read(0, 8);
  if (!isGguf(head)) {
    info.error = new FormatError('magic', 'not a GGUF file (magic is not "GGUF")', 0);
    return info;
  }
  // The magic is written little-endian by every writer; a big-endian file (gguf-py --bigendian, for
  // s390x) shows up as a version whose low half is zero when read little-endian.
  const dv = new DataView(head.buffer, head.byteOffset, 8);
  const vLe = dv.getUint32(4, true);
  const vBe = dv.getUint32(4, false);
  if (vLe >= 1 && vLe <= 3) info.version = vLe;
  else if (vBe >= 1 && vBe <= 3) {
    info.version = vBe;
    info.littleEndian = false;
  } else {
    info.error = new FormatError('version', `unsupported GGUF version ${vLe} (0x${vLe.toString(16)}); versions 1-3 exist`, 4);
    return info;
  }

  const r = new Reader(src, info.littleEndian, opts.maxHeaderBytes ?? 256 << 20);
  r.pos = 8;
  const v1 = info.version === 1;
  // GGUF v1 wrote counts and string lengths as u32; v2 widened them to u64.
  const lenSize = v1 ? 4 : 8;
  const readLen = (what: string): bigint => (v1 ? BigInt(r.u32(what)) : r.u64(what));

  /** Reads a string's length and checks it against the bytes left before touching its bytes. */
  const stringLength = (what: string): number => {
    const at = r.pos;
    const n = readLen(`${what} length`);
    if (n > BigInt(r.remaining())) {
      throw new FormatError('string-length', `${what} declares ${n} bytes at offset ${at} but only ${r.remaining()} remain`, at);
    }
    return Number(n);
  };
  const readString = (what: string): { text: string; valid: boolean } => {
    const n = stringLength(what);
    const b = r.bytes(n, what);
    try {
      return { text: utf8.decode(b), valid: true };
    } catch {
      return { text: utf8Lenient.decode(b), valid: false };
    }
  };

  /** Minimal encoded size of one value of `type`, for checking counts before looping over them. */
  const minSize = (type: number): number => (type === T_STRING ? lenSize : type === T_ARRAY ? 4 + lenSize : SCALAR_SIZE[type]);

  const readArray = (depth: number, key: string): GgufArray => {
    const typeAt = r.pos;
    const type = r.u32('array element type');
    if (type >= GGUF_VALUE_TYPES.length) throw new FormatError('value-type', `array of "${key}" has element type ${type}; types 0-12 exist`, typeAt);
    const countAt = r.pos;
    const count = readLen('array count');
    if (count * BigInt(minSize(type)) > BigInt(r.remaining())) {
      throw new FormatError('array-count', `array of "${key}" declares ${count} elements at offset ${countAt}; at least ${count * BigInt(minSize(type))} bytes needed, ${r.remaining()} remain`, countAt);
    }
    const n = Number(count);
    let below = 0;
    if (type === T_ARRAY) {
      if (depth + 1 > maxDepth) throw new FormatError('array-depth', `arrays of "${key}" nested deeper than ${maxDepth} levels`, typeAt);
      below = 1;
      for (let i = 0; i < n; i++) {
        step();
        below = Math.max(below, readArray(depth + 1, key).depth + 1);
      }
    } else if (type === T_STRING) {
      for (let i = 0; i < n; i++) {
        step();
        r.skip(stringLength(`element ${i} of "${key}"`), 'string');
      }
    } else {
      r.skip(n * SCALAR_SIZE[type], `array of "${key}"`);
    }
    return { type, count: n, depth: below };
  };

  try {
    info.tensorCount = readLen('tensor count');
    info.kvCount = readLen('metadata count');
    const minKv = BigInt(lenSize + 4 + 1);
    const minTensor = BigInt(lenSize + 4 + 4 + 8);
    const need = info.kvCount * minKv + info.tensorCount * minTensor;
    if (need > BigInt(r.remaining())) {
      throw new FormatError('count', `header declares ${info.kvCount} metadata entries and ${info.tensorCount} tensors; they need at least ${need} bytes, ${r.remaining()} remain`, 8);
    }
    if (info.kvCount > BigInt(maxCount) || info.tensorCount > BigInt(maxCount)) {
      throw new LimitError('gguf-count', `GGUF declares ${info.kvCount} metadata entries and ${info.tensorCount} tensors (limit ${maxCount})`, 8);
    }

    const keys = new Set<string>();
    for (let i = 0, n = Number(info.kvCount); i < n; i++) {
      step();
      const offset = r.pos;
      const { text: key, valid } = readString(`key of metadata entry ${i}`);
      if (!valid) problem('invalid-utf8', offset, `metadata key at offset ${offset} is not valid UTF-8`);
      if (keys.has(key)) problem('duplicate-key', offset, `metadata key "${key}" appears more than once`);
      keys.add(key);
      const typeAt = r.pos;
      const type = r.u32('value type');
      if (type >= GGUF_VALUE_TYPES.length) throw new FormatError('value-type', `metadata "${key}" has value type ${type}; types 0-12 exist`, typeAt);
      let valueOffset = r.pos;
      let value: GgufValue;
      if (type === T_STRING) {
        const n = stringLength(`value of "${key}"`);
        valueOffset = r.pos;
        const b = r.bytes(n, `value of "${key}"`);
        value = utf8Lenient.decode(b);
      } else if (type === T_ARRAY) {
        value = readArray(0, key);
        if (value.type === T_ARRAY) problem('nested-array', valueOffset, `metadata "${key}" is an array of arrays (llama.cpp rejects nested arrays)`);
      } else {
        value = r.scalar(type, `value of "${key}"`);
      }
      info.kvs.push({ key, type, offset, valueOffset, value });
    }

    const align = info.kvs.find((kv) => kv.key === 'general.alignment');
    if (align) {
      const a = align.value;
      if (align.type !== 4 || typeof a !== 'number' || a === 0 || (a & (a - 1)) !== 0) {
        problem('bad-alignment', align.offset, `general.alignment is ${String(a)} (${GGUF_VALUE_TYPES[align.type]}); it must be a non-zero power of two stored as UINT32`);
      } else {
        info.alignment = a;
      }
    }

    const names = new Set<string>();
    for (let i = 0, n = Number(info.tensorCount); i < n; i++) {
      step();
      const infoOffset = r.pos;
      const { text: name, valid } = readString(`name of tensor ${i}`);
      if (!valid) problem('invalid-utf8', infoOffset, `name of tensor ${i} is not valid UTF-8`);
      if (Buffer.byteLength(name) >= GGML_MAX_NAME) problem('name-too-long', infoOffset, `tensor name "${name.slice(0, 80)}" is ${Buffer.byteLength(name)} bytes; llama.cpp accepts at most ${GGML_MAX_NAME - 1}`);
      if (names.has(name)) problem('duplicate-tensor', infoOffset, `tensor "${name}" appears more than once`);
      names.add(name);
      const nDims = r.u32('dimension count');
      if (nDims > MAX_DIMS) throw new FormatError('dims', `tensor "${name}" declares ${nDims} dimensions (at most ${MAX_DIMS} are read, ggml has ${GGML_MAX_DIMS})`, infoOffset);
      if (nDims > GGML_MAX_DIMS) problem('too-many-dims', infoOffset, `tensor "${name}" has ${nDims} dimensions; ggml supports ${GGML_MAX_DIMS}`);
      const dims: bigint[] = [];
      for (let d = 0; d < nDims; d++) dims.push(v1 ? BigInt(r.u32('dimension')) : r.u64('dimension'));
      const type = r.u32('tensor type');
      const offset = r.u64('tensor offset');
      info.tensors.push({ name, dims, type, offset, infoOffset, nbytes: null });
    }
    info.headerEnd = r.pos;
  } catch (e) {
    if (e instanceof FormatError || e instanceof LimitError) info.error = e;
    else throw e;
    return info;
  }

  const a = BigInt(info.alignment);
  const dataOffset = ((BigInt(info.headerEnd) + a - 1n) / a) * a;
  info.dataOffset = Number(dataOffset);
  checkTensors(info, src.size, dataOffset, problem);
  return info;
}

/** Sizes, alignment, bounds and overlaps of tensor data, computed from the infos (the data is never read). */
function checkTensors(info: GgufInfo, fileSize: number, dataOffset: bigint, problem: (k: GgufProblemKind, o: number, d: string) => void): void {
  const size = BigInt(fileSize);
  const a = BigInt(info.alignment);
  let allKnown = true;
  for (const t of info.tensors) {
    if (t.offset % a !== 0n) problem('misaligned', t.infoOffset, `tensor "${t.name}" data offset ${t.offset} is not a multiple of the alignment ${a}`);
    const ggml = GGML_TYPES.get(t.type);
    if (!ggml) {
      allKnown = false;
      problem('unknown-tensor-type', t.infoOffset, `tensor "${t.name}" has ggml type ${t.type}, which is unknown or removed; its size cannot be checked`);
      if (dataOffset + t.offset > size) problem('out-of-bounds', t.infoOffset, `tensor "${t.name}" starts at ${dataOffset + t.offset}, past the end of the ${size}-byte file`);
      continue;
    }
    const [typeName, block, bytes] = ggml;
    const ne0 = t.dims[0] ?? 1n;
    if (ne0 % BigInt(block) !== 0n) {
      allKnown = false;
      problem('block-mismatch', t.infoOffset, `tensor "${t.name}" (${typeName}) has a first dimension of ${ne0}, not a multiple of the block size ${block}`);
      continue;
    }
    let n = (ne0 / BigInt(block)) * BigInt(bytes);
    for (const d of t.dims.slice(1)) n *= d;
    t.nbytes = n;
    const end = dataOffset + t.offset + n;
    if (end > size) {
      problem('out-of-bounds', t.infoOffset, `tensor "${t.name}" (${typeName}, [${t.dims.join(', ')}]) spans bytes ${dataOffset + t.offset}..${end}, past the end of the ${size}-byte file`);
    }
  }
  const placed = info.tensors.filter((t) => t.nbytes !== null).sort((x, y) => (x.offset < y.offset ? -1 : x.offset > y.offset ? 1 : 0));
  let prev: GgufTensor | null = null;
  let maxEnd = 0n;
  for (const t of placed) {
    const end = t.offset + (t.nbytes as bigint);
    if (prev && t.offset < prev.offset + (prev.nbytes as bigint) && (t.nbytes as bigint) > 0n) {
      problem('overlap', t.infoOffset, `tensor "${t.name}" overlaps tensor "${prev.name}" in the data section`);
    }
    if (!prev || end > prev.offset + (prev.nbytes as bigint)) prev = t;
    if (end > maxEnd) maxEnd = end;
  }
  // Writers pad the last tensor (or an empty data section) to the alignment; more than that is bytes no
  // loader reads, which is where a second file can hide.
  if (allKnown) {
    const used = info.tensors.length ? dataOffset + maxEnd : BigInt(info.headerEnd ?? 0);
    if (size - used >= a) problem('trailing-bytes', Number(used), `${size - used} bytes after the last tensor's data are not part of any tensor`);
  }
}
