// Schema-driven decoding on top of the wire walker: a protobufjs reflection Type says what each field
// number means, the walker reads it under its bounds. Payload fields (tensor data) are summarised — their
// offset, byte length and element count — and never read, so a multi-GB model costs what its graph costs.
// protobufjs's own generated decoders are not used: they read everything into memory, recurse without a
// depth limit and are built with `new Function`.
import type { Field, Type } from 'protobufjs/light.js';
import { LimitError } from '../errors.ts';
import { WIRE_I32, WIRE_I64, WIRE_LEN, WIRE_VARINT, type FieldCursor, type ProtoReader } from './index.ts';

type Kind = 'int' | 'uint' | 'sint' | 'bool' | 'enum' | 'fixed32' | 'sfixed32' | 'float' | 'fixed64' | 'sfixed64' | 'double' | 'string' | 'bytes' | 'message';

interface FieldSchema {
  name: string;
  kind: Kind;
  repeated: boolean;
  message: MessageSchema | null;
  /** Summarised, never read (tensor payloads). */
  payload: boolean;
}

export interface MessageSchema {
  name: string;
  fields: Map<number, FieldSchema>;
}

/** A bytes field: where it is, how long, and its first bytes (for evidence). */
export class ProtoBytes {
  constructor(
    readonly offset: number,
    readonly length: number,
    readonly head: Uint8Array,
  ) {}
}

/** A payload field (possibly repeated, packed or not): element count and total bytes, never the data. */
export class ProtoPayload {
  constructor(
    /** Offset of the first occurrence's data. */
    readonly offset: number,
    public bytes = 0,
    /** Elements; null when counting would mean reading a large varint payload. */
    public count: number | null = 0,
  ) {}
}

export type ProtoValue = number | boolean | string | ProtoBytes | ProtoPayload | ProtoObject | ProtoValue[];
export interface ProtoObject {
  [field: string]: ProtoValue | undefined;
  /** Offset of the message's first byte in the input (for findings). */
  $offset?: number;
}

const SCALAR_KIND: Record<string, Kind> = {
  int32: 'int', int64: 'int', uint32: 'uint', uint64: 'uint', sint32: 'sint', sint64: 'sint', bool: 'bool',
  fixed32: 'fixed32', sfixed32: 'sfixed32', float: 'float', fixed64: 'fixed64', sfixed64: 'sfixed64', double: 'double',
  string: 'string', bytes: 'bytes',
};
const FIXED_WIDTH: Partial<Record<Kind, number>> = { fixed32: 4, sfixed32: 4, float: 4, fixed64: 8, sfixed64: 8, double: 8 };

/**
 * Compiles a resolved protobufjs Type (and every type it reaches) into lookup tables. `isPayload` picks
 * the fields (by message and field name) whose contents are summarised, not read.
 */
export function compileSchema(root: Type, isPayload: (message: string, field: string) => boolean = () => false): MessageSchema {
  const done = new Map<Type, MessageSchema>();
  const visit = (t: Type): MessageSchema => {
    const known = done.get(t);
    if (known) return known;
    const m: MessageSchema = { name: t.name, fields: new Map() };
    done.set(t, m);
    for (const f of t.fieldsArray as Field[]) {
      f.resolve();
      const rt = f.resolvedType;
      const isMessage = rt !== null && 'fieldsArray' in rt;
      const kind: Kind = isMessage ? 'message' : rt !== null ? 'enum' : (SCALAR_KIND[f.type] ?? 'bytes');
      m.fields.set(f.id, {
        name: f.name,
        kind,
        repeated: f.repeated,
        message: isMessage ? visit(rt as Type) : null,
        payload: isPayload(t.name, f.name),
      });
    }
    return m;
  };
  return visit(root);
}

export interface DecodeOptions {
  /** Bytes kept of each bytes field (the rest is only located). */
  bytesHead?: number;
  /** Payload varints are counted only up to this many bytes (counting reads them). */
  countVarintBytes?: number;
  /** Scalars and messages decoded across the input (memory bound). */
  maxValues?: number;
}

/** Decodes the message in [start, end) of the reader's input. */
export function decodeMessage(r: ProtoReader, schema: MessageSchema, start: number, end: number, opts: DecodeOptions = {}): ProtoObject {
  const d = new Decoder(r, opts);
  const out: ProtoObject = { $offset: start };
  d.into(out, schema, r.message(start, end, 0));
  return out;
}

class Decoder {
  private values = 0;
  private readonly bytesHead: number;
  private readonly countVarintBytes: number;
  private readonly maxValues: number;

  constructor(
    readonly r: ProtoReader,
    opts: DecodeOptions,
  ) {
    this.bytesHead = opts.bytesHead ?? 256;
    this.countVarintBytes = opts.countVarintBytes ?? 64 << 20;
    this.maxValues = opts.maxValues ?? 20_000_000;
  }

  private spend(n: number, pos: number): void {
    this.values += n;
    if (this.values > this.maxValues) throw new LimitError('proto-values', `more than ${this.maxValues} protobuf values decoded`, pos);
  }

  into(out: ProtoObject, schema: MessageSchema, c: FieldCursor): void {
    while (c.next()) {
      const f = schema.fields.get(c.field);
      if (!f) continue; // unknown field: skipped, as every protobuf parser does
      if (f.payload) {
        this.payload(out, f, c);
        continue;
      }
      if (f.kind === 'message') {
        if (c.wire !== WIRE_LEN) continue; // mismatched wire type: real parsers keep it as an unknown field
        this.spend(1, c.tagOffset);
        const sub = c.sub();
        if (f.repeated) {
          const obj: ProtoObject = { $offset: c.start };
          this.into(obj, f.message!, sub);
          push(out, f.name, obj);
        } else {
          // A singular message seen twice is merged (protobuf semantics), never replaced: a second
          // `graph` field adds nodes to the first, and a scanner that kept only one would miss some.
          const prev = out[f.name];
          const obj = isObject(prev) ? prev : { $offset: c.start };
          this.into(obj, f.message!, sub);
          out[f.name] = obj;
        }
        continue;
      }
      if (f.repeated && c.wire === WIRE_LEN && f.kind !== 'string' && f.kind !== 'bytes') {
        this.packed(out, f, c);
        continue;
      }
      const v = this.scalar(f, c);
      if (v === undefined) continue;
      this.spend(1, c.tagOffset);
      if (f.repeated) push(out, f.name, v);
      else out[f.name] = v;
    }
  }

  private scalar(f: FieldSchema, c: FieldCursor): ProtoValue | undefined {
    const r = this.r;
    switch (f.kind) {
      case 'string':
        return c.wire === WIRE_LEN ? c.text() : undefined;
      case 'bytes':
        return c.wire === WIRE_LEN ? new ProtoBytes(c.start, c.length, r.bytes(c.start, c.length, this.bytesHead)) : undefined;
      case 'int':
      case 'enum':
        return c.wire === WIRE_VARINT ? c.signed : undefined;
      case 'uint':
        return c.wire === WIRE_VARINT ? c.value : undefined;
      case 'sint':
        return c.wire === WIRE_VARINT ? zigzag(c.lo, c.hi) : undefined;
      case 'bool':
        return c.wire === WIRE_VARINT ? c.lo !== 0 || c.hi !== 0 : undefined;
      default: {
        const width = FIXED_WIDTH[f.kind]!;
        if (c.wire !== (width === 4 ? WIRE_I32 : WIRE_I64)) return undefined;
        return fixedAt(r, f.kind, c.start);
      }
    }
  }

  /** A packed run of scalars: counted first, charged to the budget, then decoded. */
  private packed(out: ProtoObject, f: FieldSchema, c: FieldCursor): void {
    const r = this.r;
    const width = FIXED_WIDTH[f.kind];
    if (width && c.length % width !== 0) return; // malformed packing: protobuf rejects the message; we skip the field
    const n = width ? c.length / width : r.countVarints(c.start, c.end);
    this.spend(n, c.tagOffset);
    const list = (Array.isArray(out[f.name]) ? out[f.name] : (out[f.name] = [])) as ProtoValue[];
    if (width) {
      for (let p = c.start; p < c.end; p += width) list.push(fixedAt(r, f.kind, p));
      return;
    }
    for (let p = c.start; p < c.end; ) {
      const [lo, hi, next] = r.varint(p, c.end);
      list.push(f.kind === 'uint' ? lo + hi * 4294967296 : f.kind === 'sint' ? zigzag(lo, hi) : f.kind === 'bool' ? lo !== 0 || hi !== 0 : toSigned(lo, hi));
      p = next;
    }
  }

  private payload(out: ProtoObject, f: FieldSchema, c: FieldCursor): void {
    const prev = out[f.name];
    const acc = prev instanceof ProtoPayload ? prev : new ProtoPayload(c.start);
    const width = FIXED_WIDTH[f.kind];
    let n: number | null;
    if (f.kind === 'string' || f.kind === 'bytes' || f.kind === 'message') n = c.wire === WIRE_LEN ? 1 : 0;
    else if (c.wire !== WIRE_LEN) n = 1; // one unpacked element
    else if (width) n = c.length % width === 0 ? c.length / width : null;
    else n = c.length <= this.countVarintBytes ? this.r.countVarints(c.start, c.end) : null;
    acc.bytes += c.length;
    acc.count = acc.count === null || n === null ? null : acc.count + n;
    out[f.name] = acc;
  }
}

function fixedAt(r: ProtoReader, kind: Kind, pos: number): number {
  switch (kind) {
    case 'float':
      return r.float32(pos);
    case 'double':
      return r.float64(pos);
    case 'fixed32':
      return r.fixed32(pos);
    case 'sfixed32':
      return r.fixed32(pos) | 0;
    case 'fixed64':
      return r.fixed32(pos + 4) * 4294967296 + r.fixed32(pos);
    default:
      return toSigned(r.fixed32(pos), r.fixed32(pos + 4));
  }
}

function toSigned(lo: number, hi: number): number {
  return hi >= 0x80000000 ? (hi - 4294967296) * 4294967296 + lo : hi * 4294967296 + lo;
}

function zigzag(lo: number, hi: number): number {
  const u = hi * 4294967296 + lo;
  return lo & 1 ? -(u + 1) / 2 : u / 2;
}

function push(out: ProtoObject, name: string, v: ProtoValue): void {
  const prev = out[name];
  if (Array.isArray(prev)) prev.push(v);
  else out[name] = [v];
}

function isObject(v: ProtoValue | undefined): v is ProtoObject {
  return typeof v === 'object' && !Array.isArray(v) && !(v instanceof ProtoBytes) && !(v instanceof ProtoPayload);
}
