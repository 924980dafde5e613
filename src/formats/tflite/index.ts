// TensorFlow Lite models: a FlatBuffer (tensorflow/lite/schema/schema.fbs, file identifier "TFL3") whose
// root table Model lists operator codes, subgraphs, buffers and metadata. Read by hand from hostile
// bytes: every uoffset, soffset and vtable entry is checked against the buffer before it is followed,
// vectors are bounded, and tensor data is located, never read. No policy here.
import { FormatError, LimitError } from '../errors.ts';
import { BufferSource, type ByteSource } from '../source.ts';

export const TFLITE_IDENTIFIER = 'TFL3';
/** BuiltinOperator.CUSTOM: the op is named by custom_code. */
export const TFLITE_CUSTOM = 32;

export interface TfliteOperatorCode {
  /** max(deprecated_builtin_code, builtin_code), as the runtime's GetBuiltinCode does. */
  builtinCode: number;
  customCode: string | null;
  version: number;
}

export interface TfliteBuffer {
  /** The inline data vector's file offset and length (0/0 when absent). */
  dataOffset: number;
  dataLength: number;
  /** Data stored outside the FlatBuffer (models over 2 GB): file offset and size, 0 when unused. */
  offset: number;
  size: number;
}

export interface TfliteModel {
  version: number;
  description: string | null;
  operatorCodes: TfliteOperatorCode[];
  subgraphs: Array<{ name: string | null; operators: number; tensors: number; opcodeIndices: Set<number> }>;
  buffers: TfliteBuffer[];
  metadata: Array<{ name: string | null; buffer: number }>;
  /** Operators whose custom options live outside the FlatBuffer (large_custom_options_offset/size). */
  largeCustomOptions: Array<{ offset: number; size: number }>;
}

export interface TfliteLimits {
  /** Elements of any one vector (operator codes, operators, tensors, buffers). */
  maxVector: number;
  /** Tables visited across the model. */
  maxTables: number;
  deadline: number;
}

const DEFAULT_LIMITS: TfliteLimits = { maxVector: 10_000_000, maxTables: 20_000_000, deadline: Infinity };
const MAX_STRING = 64 << 10;
const WINDOW = 64 << 10;
const utf8 = new TextDecoder('utf-8');

/** True when bytes 4..8 are the TFLite file identifier and the root offset points inside the file. */
export function looksLikeTflite(head: Uint8Array, size: number): boolean {
  if (head.length < 8 || String.fromCharCode(head[4], head[5], head[6], head[7]) !== TFLITE_IDENTIFIER) return false;
  const root = head[0] | (head[1] << 8) | (head[2] << 16) | (head[3] * 0x1000000);
  return root >= 8 && root + 4 <= size;
}

/** Random access to the FlatBuffer with bounds checks on every read. */
class FlatReader {
  private buf: Uint8Array;
  private bufStart = 0;
  tables = 0;

  constructor(
    readonly src: ByteSource,
    readonly size: number,
    readonly limits: TfliteLimits,
  ) {
    this.buf = src instanceof BufferSource ? src.bytes : new Uint8Array(0);
  }

  private at(pos: number, len: number): Uint8Array {
    if (pos < 0 || len < 0 || pos + len > this.size) throw new FormatError('tflite-bounds', `read of ${len} bytes at ${pos} is outside the ${this.size}-byte model`, pos);
    const i = pos - this.bufStart;
    if (i >= 0 && i + len <= this.buf.length) return this.buf.subarray(i, i + len);
    const chunk = this.src.read(pos, Math.max(len, Math.min(WINDOW, this.size - pos)));
    if (chunk.length < len) throw new FormatError('tflite-bounds', `model ended before ${pos + len}`, pos);
    this.buf = chunk;
    this.bufStart = pos;
    return chunk.subarray(0, len);
  }

  u8(pos: number): number {
    return this.at(pos, 1)[0];
  }
  u16(pos: number): number {
    const b = this.at(pos, 2);
    return b[0] | (b[1] << 8);
  }
  i32(pos: number): number {
    const b = this.at(pos, 4);
    return b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24);
  }
  u32(pos: number): number {
    return this.i32(pos) >>> 0;
  }
  u64(pos: number): number {
    return this.u32(pos + 4) * 4294967296 + this.u32(pos);
  }

  /** Follows the uoffset stored at `pos`; the target must lie inside the buffer. */
  deref(pos: number): number {
    const target = pos + this.u32(pos);
    if (target + 4 > this.size) throw new FormatError('tflite-offset', `offset at ${pos} points to ${target}, past the end`, pos);
    return target;
  }

  /** A table at `pos`: its vtable is checked, and the returned accessor gives field positions or null. */
  table(pos: number): Table {
    if (++this.tables > this.limits.maxTables) throw new LimitError('tflite-tables', `more than ${this.limits.maxTables} FlatBuffer tables`, pos);
    if ((this.tables & 0xffff) === 0 && Date.now() > this.limits.deadline) throw new LimitError('time', 'TFLite walk ran out of time', pos);
    const vt = pos - this.i32(pos);
    if (vt < 0 || vt + 4 > this.size) throw new FormatError('tflite-vtable', `vtable of the table at ${pos} is outside the buffer (${vt})`, pos);
    const vtSize = this.u16(vt);
    const objSize = this.u16(vt + 2);
    if (vtSize < 4 || vtSize % 2 !== 0 || vt + vtSize > this.size) throw new FormatError('tflite-vtable', `vtable at ${vt} declares ${vtSize} bytes`, vt);
    if (objSize < 4 || pos + objSize > this.size) throw new FormatError('tflite-vtable', `table at ${pos} declares ${objSize} bytes`, pos);
    return new Table(this, pos, vt, vtSize, objSize);
  }

  /** A vector's element count and first element position; elements must fit in the buffer. */
  vector(pos: number, elemSize: number): { count: number; start: number } {
    const count = this.u32(pos);
    if (count > this.limits.maxVector) throw new LimitError('tflite-vector', `vector of ${count} elements at ${pos}`, pos);
    const start = pos + 4;
    if (start + count * elemSize > this.size) throw new FormatError('tflite-vector', `vector at ${pos} of ${count}×${elemSize} bytes runs past the end`, pos);
    return { count, start };
  }

  string(pos: number): string {
    const { count, start } = this.vector(pos, 1);
    if (count > MAX_STRING) return `${utf8.decode(this.at(start, MAX_STRING))}…`;
    return utf8.decode(this.at(start, count));
  }
}

class Table {
  constructor(
    readonly r: FlatReader,
    readonly pos: number,
    readonly vt: number,
    readonly vtSize: number,
    readonly objSize: number,
  ) {}

  /** Position of field `i` (schema order), or null when absent; the field must fit inside the table. */
  field(i: number, width: number): number | null {
    const slot = 4 + 2 * i;
    if (slot + 2 > this.vtSize) return null;
    const off = this.r.u16(this.vt + slot);
    if (off === 0) return null;
    if (off + width > this.objSize) throw new FormatError('tflite-field', `field ${i} of the table at ${this.pos} lies outside it`, this.pos);
    return this.pos + off;
  }

  int(i: number, dflt: number, width: 1 | 4, signed: boolean): number {
    const p = this.field(i, width);
    if (p === null) return dflt;
    if (width === 1) {
      const b = this.r.u8(p);
      return signed && b > 127 ? b - 256 : b;
    }
    return signed ? this.r.i32(p) : this.r.u32(p);
  }

  u64(i: number): number {
    const p = this.field(i, 8);
    return p === null ? 0 : this.r.u64(p);
  }

  ref(i: number): number | null {
    const p = this.field(i, 4);
    return p === null ? null : this.r.deref(p);
  }

  string(i: number): string | null {
    const p = this.ref(i);
    return p === null ? null : this.r.string(p);
  }

  /** The tables of a vector-of-tables field. */
  *tables(i: number): Generator<Table> {
    const p = this.ref(i);
    if (p === null) return;
    const { count, start } = this.r.vector(p, 4);
    for (let k = 0; k < count; k++) yield this.r.table(this.r.deref(start + 4 * k));
  }

  vectorLength(i: number, elemSize: number): { start: number; count: number } | null {
    const p = this.ref(i);
    return p === null ? null : this.r.vector(p, elemSize);
  }
}

/** Reads the Model table. Throws FormatError on any offset outside the file, LimitError on huge vectors. */
export function readTflite(src: ByteSource, limits: Partial<TfliteLimits> = {}): TfliteModel {
  const size = src.size;
  if (size < 8) throw new FormatError('tflite-short', `${size} bytes is too short for a FlatBuffer`);
  const r = new FlatReader(src, size, { ...DEFAULT_LIMITS, ...limits });
  const model = r.table(r.deref(0));
  // table Model { version:uint; operator_codes:[OperatorCode]; subgraphs:[SubGraph]; description:string;
  //               buffers:[Buffer]; metadata_buffer:[int]; metadata:[Metadata]; signature_defs:[SignatureDef]; }
  const out: TfliteModel = {
    version: model.int(0, 0, 4, false),
    description: model.string(3),
    operatorCodes: [],
    subgraphs: [],
    buffers: [],
    metadata: [],
    largeCustomOptions: [],
  };
  // table OperatorCode { deprecated_builtin_code:byte; custom_code:string; version:int = 1; builtin_code:BuiltinOperator(int); }
  for (const t of model.tables(1)) {
    const deprecated = t.int(0, 0, 1, true);
    const builtin = t.int(3, 0, 4, true);
    out.operatorCodes.push({ builtinCode: Math.max(deprecated, builtin), customCode: t.string(1), version: t.int(2, 1, 4, true) });
  }
  // table SubGraph { tensors:[Tensor]; inputs:[int]; outputs:[int]; operators:[Operator]; name:string; }
  for (const sg of model.tables(2)) {
    const tensors = sg.vectorLength(0, 4);
    const entry = { name: sg.string(4), operators: 0, tensors: tensors?.count ?? 0, opcodeIndices: new Set<number>() };
    // table Operator { opcode_index:uint; … large_custom_options_offset:ulong (9); large_custom_options_size:ulong (10); }
    for (const op of sg.tables(3)) {
      entry.operators++;
      entry.opcodeIndices.add(op.int(0, 0, 4, false));
      const size = op.u64(10);
      if (size > 0) out.largeCustomOptions.push({ offset: op.u64(9), size });
    }
    out.subgraphs.push(entry);
  }
  // table Buffer { data:[ubyte]; offset:ulong; size:ulong; }
  for (const b of model.tables(4)) {
    const data = b.vectorLength(0, 1);
    out.buffers.push({ dataOffset: data?.start ?? 0, dataLength: data?.count ?? 0, offset: b.u64(1), size: b.u64(2) });
  }
  // table Metadata { name:string; buffer:uint; }
  for (const m of model.tables(6)) out.metadata.push({ name: m.string(0), buffer: m.int(1, 0, 4, false) });
  return out;
}
