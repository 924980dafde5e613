// safetensors: an 8-byte little-endian header length, a JSON header, then one flat data section.
// The format cannot run code; the risks are parser differentials and resource exhaustion, so this parser
// reports every deviation from what the reference Rust crate accepts (and from what its writer emits) as
// a problem instead of stopping at the first one. It never allocates a declared length it has not checked,
// and it reads nothing beyond the header.
import { LimitError } from '../errors.ts';
import type { ByteSource } from '../source.ts';

export interface SafetensorsTensor {
  name: string;
  dtype: string;
  shape: number[];
  /** Offsets relative to the data section (file offset = dataOffset + begin). */
  begin: number;
  end: number;
}

export type SafetensorsProblemKind =
  | 'header-length'
  | 'header-json'
  | 'header-not-object'
  | 'duplicate-key'
  | 'bad-dtype'
  | 'bad-shape'
  | 'bad-offsets'
  | 'size-mismatch'
  | 'overlap'
  | 'gap'
  | 'trailing-bytes'
  | 'data-out-of-bounds'
  | 'metadata-type'
  | 'header-padding'
  | 'invalid-utf8';

export interface SafetensorsProblem {
  kind: SafetensorsProblemKind;
  /** The tensor the problem belongs to, or null for header-wide problems. */
  tensor: string | null;
  /** Absolute file offset the problem points at. */
  offset: number;
  detail: string;
}

export interface SafetensorsInfo {
  /** The declared header length (approximate when it exceeds 2^53; a problem is reported then). */
  headerLength: number;
  /** 8 + headerLength: where the data section starts. */
  dataOffset: number;
  /** Tensors whose dtype, shape and offsets are individually valid, in data-section order. */
  tensors: SafetensorsTensor[];
  metadata: Record<string, string> | null;
  problems: SafetensorsProblem[];
}

/** Bits per element. The reference crate's set, plus PyTorch's sub-byte integers (uint1..7, int1..7). */
const DTYPE_BITS: ReadonlyMap<string, number> = new Map([
  ['BOOL', 8],
  ['F4', 4],
  ['F6_E2M3', 6],
  ['F6_E3M2', 6],
  ['U8', 8],
  ['I8', 8],
  ['F8_E5M2', 8],
  ['F8_E4M3', 8],
  ['F8_E8M0', 8],
  ['F8_E4M3FNUZ', 8],
  ['F8_E5M2FNUZ', 8],
  ['I16', 16],
  ['U16', 16],
  ['F16', 16],
  ['BF16', 16],
  ['I32', 32],
  ['U32', 32],
  ['F32', 32],
  ['C64', 64],
  ['F64', 64],
  ['I64', 64],
  ['U64', 64],
  ...[1, 2, 3, 4, 5, 6, 7].flatMap((n): [string, number][] => [
    [`U${n}`, n],
    [`I${n}`, n],
  ]),
]);

export const SAFETENSORS_DTYPES: readonly string[] = [...DTYPE_BITS.keys()];

/** serde_json's default recursion limit; deeper headers are rejected by the reference reader. */
const MAX_JSON_DEPTH = 128;
/** Problems listed per file; the rest are summarised in one final problem. */
const MAX_PROBLEMS = 1000;
const METADATA_KEY = '__metadata__';
/** Top-level header entries; a 100 MB header could otherwise declare ~8 million and exhaust memory. */
const DEFAULT_MAX_TENSORS = 1_000_000;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const SATURATE = 1n << 80n;

export function looksLikeSafetensors(head: Uint8Array, fileSize: number): boolean {
  if (head.length < 10 || fileSize < 10) return false;
  const n = readU64(head);
  if (n < 2n) return false;
  let i = 8;
  while (i < head.length && head[i] === 0x20) i++;
  if (i >= head.length || head[i] !== 0x7b /* { */) return false;
  // An object starts with a key or closes at once; this rejects lookalikes such as an .npy whose
  // header-length byte happens to be '{'.
  i++;
  while (i < head.length && isJsonSpace(head[i])) i++;
  if (i < head.length && head[i] !== 0x22 /* " */ && head[i] !== 0x7d /* } */) return false;
  const end = 8n + n;
  if (end <= BigInt(Math.min(fileSize, head.length))) {
    // The whole header is in view: it must close the object (modulo padding).
    let j = Number(end) - 1;
    while (j > 8 && isJsonSpace(head[j])) j--;
    return head[j] === 0x7d;
  }
  return true;
}

/**
 * Reads and checks the header. Every finding is a problem in the result; the only throw is a LimitError
 * when the header declares more than `limits.maxTensors` entries (default 1 000 000).
 */
export function parseSafetensors(
  src: ByteSource,
  limits: { maxHeaderBytes: number; maxTensors?: number },
): SafetensorsInfo {
  const problems = new ProblemList();
  const info: SafetensorsInfo = { headerLength: 0, dataOffset: 8, tensors: [], metadata: null, problems: [] };
  const finish = (): SafetensorsInfo => {
    info.problems = problems.list();
    return info;
  };

  if (src.size < 8) {
    problems.add('header-length', null, 0, `file is ${src.size} bytes; a safetensors file starts with an 8-byte header length`);
    return finish();
  }
  const n = readU64(src.read(0, 8));
  info.headerLength = Number(n);
  info.dataOffset = 8 + Number(n);
  const maxHeader = BigInt(Math.max(0, Math.floor(limits.maxHeaderBytes)));
  if (n > maxHeader) {
    problems.add('header-length', null, 0, `declared header length ${n} exceeds the limit of ${maxHeader} bytes (the file is ${src.size} bytes)`);
    return finish();
  }
  if (8n + n > BigInt(src.size)) {
    problems.add('header-length', null, 0, `declared header length ${n} runs past the end of the ${src.size}-byte file`);
    return finish();
  }
  const headerLength = Number(n);
  const header = src.read(8, headerLength);
  if (header.length !== headerLength) {
    problems.add('header-length', null, 0, `could read only ${header.length} of ${headerLength} header bytes`);
    return finish();
  }
  const dataOffset = 8 + headerLength;
  const dataSize = src.size - dataOffset;

  const badUtf8 = firstInvalidUtf8(header);
  if (badUtf8 >= 0) {
    problems.add('invalid-utf8', null, 8 + badUtf8, `header is not valid UTF-8 at byte ${badUtf8}`);
    return finish();
  }

  let parsed: ParsedHeader;
  try {
    parsed = new HeaderParser(header, problems, limits.maxTensors ?? DEFAULT_MAX_TENSORS).parse();
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    problems.clear(); // a header the reference reader cannot parse has no other meaningful problems
    problems.add(e.kind, null, 8 + e.at, e.message);
    return finish();
  }

  if (parsed.trailing !== null) {
    const { at, spacesOnly, whitespaceOnly } = parsed.trailing;
    if (!spacesOnly) {
      const what = whitespaceOnly
        ? 'whitespace other than spaces follows the JSON object (the reference writer pads with spaces only)'
        : 'non-whitespace bytes follow the JSON object inside the header (the reference reader rejects this header)';
      problems.add('header-padding', null, 8 + at, what);
    }
  }
  info.metadata = parsed.metadata;

  const spans: Span[] = [];
  for (const entry of parsed.entries) {
    const checked = checkTensor(entry, problems);
    if (checked.span) spans.push(checked.span);
    if (checked.tensor) info.tensors.push(checked.tensor);
  }
  info.tensors.sort(byOffset);
  checkLayout(spans, dataOffset, dataSize, problems);
  return finish();
}

interface Span {
  name: string;
  begin: number;
  end: number;
}

function byOffset(a: Span, b: Span): number {
  return a.begin - b.begin || a.end - b.end || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** dtype, shape and offsets of one entry, and that its byte span matches shape x dtype. */
function checkTensor(entry: TensorEntry, problems: ProblemList): { span?: Span; tensor?: SafetensorsTensor } {
  const at = 8 + entry.at;
  const { name } = entry;
  if (!entry.isObject) {
    problems.add('header-json', name, at, () => `tensor entry ${quote(name)} is ${entry.valueType}, not an object`);
    return {};
  }
  let dtypeBits: number | null = null;
  const dtypeValue = entry.dtype;
  if (typeof dtypeValue !== 'string') {
    problems.add('bad-dtype', name, at, () => `tensor ${quote(name)} has ${dtypeValue === undefined ? 'no dtype' : `a dtype that is ${dtypeValue.type}`}`);
  } else if (!DTYPE_BITS.has(dtypeValue)) {
    problems.add('bad-dtype', name, at, () => `tensor ${quote(name)} has unknown dtype ${quote(dtypeValue)}`);
  } else {
    dtypeBits = DTYPE_BITS.get(dtypeValue)!;
  }

  const shape = entry.shape;
  let dims: number[] | null = null;
  if (shape === undefined) problems.add('bad-shape', name, at, () => `tensor ${quote(name)} has no shape`);
  else if (!shape.isArray) problems.add('bad-shape', name, at, () => `tensor ${quote(name)} has a shape that is ${shape.type}, not an array`);
  else if (shape.bad !== null) problems.add('bad-shape', name, at, () => `tensor ${quote(name)} has shape dimension ${shape.bad}; dimensions must be non-negative integers up to 2^53-1`);
  else dims = shape.values;

  const off = entry.offsets;
  let span: Span | undefined;
  if (off === undefined) problems.add('bad-offsets', name, at, () => `tensor ${quote(name)} has no data_offsets`);
  else if (!off.isArray) problems.add('bad-offsets', name, at, () => `tensor ${quote(name)} has data_offsets that is ${off.type}, not an array`);
  else if (off.bad !== null) problems.add('bad-offsets', name, at, () => `tensor ${quote(name)} has data offset ${off.bad}; offsets must be non-negative integers up to 2^53-1`);
  else if (off.values.length !== 2) problems.add('bad-offsets', name, at, () => `tensor ${quote(name)} has ${off.values.length} data_offsets; expected [begin, end]`);
  else if (off.values[0] > off.values[1]) problems.add('bad-offsets', name, at, () => `tensor ${quote(name)} has begin ${off.values[0]} after end ${off.values[1]}`);
  else span = { name, begin: off.values[0], end: off.values[1] };

  if (dtypeBits === null || dims === null) return { span };
  const dtype = entry.dtype as string;
  // Saturate: a hostile header can list millions of 2^53 dimensions, whose exact product is a huge BigInt.
  let elements = dims.includes(0) ? 0n : 1n;
  let saturated = false;
  for (const d of dims) {
    if (elements === 0n) break;
    if (elements > SATURATE) {
      saturated = true;
      break;
    }
    elements *= BigInt(d);
  }
  const bits = elements * BigInt(dtypeBits);
  const bytes = bits / 8n;
  if (bytes > MAX_SAFE) {
    problems.add('bad-shape', name, at, () => `tensor ${quote(name)} shape ${describeDims(dims)} of ${dtype} needs ${saturated ? 'more than ' : ''}${bytes} bytes, beyond 2^53-1`);
  } else if (bits % 8n !== 0n) {
    problems.add('size-mismatch', name, at, () => `tensor ${quote(name)} holds ${elements} ${dtype} elements = ${bits} bits, not a whole number of bytes`);
  } else if (span && BigInt(span.end - span.begin) !== bytes) {
    problems.add('size-mismatch', name, at, () => `tensor ${quote(name)} spans ${span.end - span.begin} bytes but shape ${describeDims(dims)} of ${dtype} needs ${bytes}`);
  }
  return { span, tensor: span && { name, dtype, shape: dims, begin: span.begin, end: span.end } };
}

/** The data section must be tiled exactly: sorted by offsets, no overlap, no hole, nothing after. */
function checkLayout(spans: Span[], dataOffset: number, dataSize: number, problems: ProblemList): void {
  spans.sort(byOffset);
  let cursor = 0;
  let cursorOwner: string | null = null;
  for (const s of spans) {
    if (s.begin > cursor) {
      problems.add('gap', s.name, dataOffset + cursor, () => `${s.begin - cursor} unused bytes at data offset ${cursor} before tensor ${quote(s.name)}`);
    } else if (s.begin < cursor) {
      problems.add('overlap', s.name, dataOffset + s.begin, () => `tensor ${quote(s.name)} [${s.begin}, ${s.end}) overlaps tensor ${quote(cursorOwner ?? '')} which ends at ${cursor}`);
    }
    if (s.end > dataSize) {
      problems.add('data-out-of-bounds', s.name, dataOffset + Math.min(s.begin, dataSize), () => `tensor ${quote(s.name)} ends at data offset ${s.end} but the data section holds ${dataSize} bytes`);
    }
    if (s.end > cursor || cursorOwner === null) {
      cursor = Math.max(cursor, s.end);
      cursorOwner = s.name;
    }
  }
  if (cursor < dataSize) {
    problems.add('trailing-bytes', null, dataOffset + cursor, () => `${dataSize - cursor} bytes after the last tensor (data ends at ${cursor}, file has ${dataSize} data bytes)`);
  }
}

/** A name for a message: quoted, and cut short, since hostile names can be megabytes long. */
function quote(name: string): string {
  return name.length > 120 ? `${JSON.stringify(name.slice(0, 120))}… (${name.length} chars)` : JSON.stringify(name);
}

function describeDims(dims: readonly number[]): string {
  return dims.length > 8 ? `[${dims.slice(0, 8).join(', ')}, … ${dims.length - 8} more]` : `[${dims.join(', ')}]`;
}

function readU64(b: Uint8Array): bigint {
  let n = 0n;
  for (let i = 7; i >= 0; i--) n = (n << 8n) | BigInt(b[i] ?? 0);
  return n;
}

function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Index of the first byte that breaks UTF-8 (as Rust's str::from_utf8 defines it), or -1. */
function firstInvalidUtf8(b: Uint8Array): number {
  const n = b.length;
  let i = 0;
  while (i < n) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0; // overlong
      if (c === 0xed) hi = 0x9f; // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90; // overlong
      if (c === 0xf4) hi = 0x8f; // > U+10FFFF
    } else return i;
    const c1 = b[i + 1];
    if (c1 === undefined || c1 < lo || c1 > hi) return i;
    for (let k = 2; k <= need; k++) {
      const ck = b[i + k];
      if (ck === undefined || ck < 0x80 || ck > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}

class ProblemList {
  private items: SafetensorsProblem[] = [];
  private dropped = 0;
  private firstDropped: SafetensorsProblemKind | null = null;

  /** `detail` may be a function, so hostile headers with millions of problems do not build millions of messages. */
  add(kind: SafetensorsProblemKind, tensor: string | null, offset: number, detail: string | (() => string)): void {
    if (this.items.length < MAX_PROBLEMS) {
      this.items.push({ kind, tensor, offset, detail: typeof detail === 'string' ? detail : detail() });
      return;
    }
    this.dropped++;
    this.firstDropped ??= kind;
  }

  clear(): void {
    this.items = [];
    this.dropped = 0;
    this.firstDropped = null;
  }

  list(): SafetensorsProblem[] {
    if (this.dropped > 0 && this.firstDropped !== null) {
      return [
        ...this.items,
        { kind: this.firstDropped, tensor: null, offset: 0, detail: `${this.dropped} more problems not listed (limit ${MAX_PROBLEMS})` },
      ];
    }
    return this.items;
  }
}

// ---------------------------------------------------------------------------------------------------
// A single-pass JSON reader specialised to the safetensors header. It validates the whole text as strict
// JSON (RFC 8259, as serde_json reads it), keeps exact integer text (JSON.parse would round 2^64 and accept
// 1e3 or 1.0 where the Rust reader wants an integer), sees duplicate keys (JSON.parse keeps the last one
// silently), and materialises only what the checks need, so a 100 MB header of junk costs no more memory
// than the tensors and metadata it declares.

class JsonSyntaxError extends Error {
  constructor(
    readonly kind: 'header-json' | 'header-not-object',
    readonly at: number,
    message: string,
  ) {
    super(message);
  }
}

interface IntList {
  isArray: boolean;
  type: string;
  values: number[];
  /** Text of the first element that is not a non-negative safe integer, or null. */
  bad: string | null;
}

interface TensorEntry {
  name: string;
  at: number;
  isObject: boolean;
  valueType: string;
  dtype?: string | { type: string };
  shape?: IntList;
  offsets?: IntList;
}

interface ParsedHeader {
  entries: TensorEntry[];
  metadata: Record<string, string> | null;
  trailing: { at: number; spacesOnly: boolean; whitespaceOnly: boolean } | null;
}

const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const INTEGER = /^(0|[1-9][0-9]*)$/;

class HeaderParser {
  private i = 0;

  constructor(
    private readonly b: Uint8Array,
    private readonly problems: ProblemList,
    private readonly maxTensors: number,
  ) {}

  /** Header byte offsets become file offsets in problems. */
  private problem(kind: SafetensorsProblemKind, tensor: string | null, at: number, detail: string | (() => string)): void {
    this.problems.add(kind, tensor, 8 + at, detail);
  }

  parse(): ParsedHeader {
    this.ws();
    if (this.i >= this.b.length) throw this.fail('header is empty or only whitespace');
    if (this.b[this.i] !== 0x7b) {
      const at = this.i;
      const type = this.skipValue(1);
      this.ws();
      if (this.i < this.b.length) throw this.fail('unexpected bytes after the JSON value');
      throw new JsonSyntaxError('header-not-object', at, `header is a JSON ${type}, not an object`);
    }
    const entries = new Map<string, TensorEntry>();
    let metadata: Record<string, string> | null = null;
    let metadataAt = -1;
    let keys = 0;
    this.i++;
    this.ws();
    if (this.peek() === 0x7d) this.i++;
    else {
      for (;;) {
        this.ws();
        const at = this.i;
        if (++keys > this.maxTensors) {
          throw new LimitError('safetensors-tensors', `safetensors header declares more than ${this.maxTensors} tensors`, 8 + at);
        }
        const key = this.string();
        this.colon();
        const isMetadata = key === METADATA_KEY;
        const previous = isMetadata ? metadataAt : (entries.get(key)?.at ?? -1);
        if (previous >= 0) {
          this.problem(
            'duplicate-key',
            isMetadata ? null : key,
            at,
            () => `key ${quote(key)} appears again (previously at file offset ${8 + previous}); JSON.parse keeps the last, other readers may not`,
          );
        }
        // The last value wins, as with JSON.parse and serde's maps.
        if (isMetadata) {
          metadata = this.metadata(at);
          metadataAt = at;
        } else entries.set(key, this.tensorEntry(key, at));
        if (!this.commaOrClose(0x7d)) break;
      }
    }
    const end = this.i;
    let spacesOnly = true;
    let whitespaceOnly = true;
    for (let k = end; k < this.b.length; k++) {
      const c = this.b[k];
      if (c !== 0x20) spacesOnly = false;
      if (!isJsonSpace(c)) {
        whitespaceOnly = false;
        break;
      }
    }
    const trailing = end < this.b.length ? { at: end, spacesOnly, whitespaceOnly } : null;
    return { entries: [...entries.values()], metadata, trailing };
  }

  private metadata(keyAt: number): Record<string, string> | null {
    this.ws();
    const c = this.peek();
    if (c === 0x6e /* n */) {
      this.skipValue(2); // null: the reference reader treats it as absent
      return null;
    }
    if (c !== 0x7b) {
      const type = this.skipValue(2);
      this.problem('metadata-type', null, keyAt, `__metadata__ is ${type}, not an object of strings`);
      return null;
    }
    const out: Record<string, string> = Object.create(null);
    const seen = new Set<string>();
    this.i++;
    this.ws();
    if (this.peek() === 0x7d) {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      const at = this.i;
      const key = this.string();
      this.colon();
      if (seen.has(key)) {
        this.problem('duplicate-key', null, at, `__metadata__ key ${quote(key)} appears more than once`);
      }
      seen.add(key);
      this.ws();
      if (this.peek() === 0x22) out[key] = this.string();
      else {
        const type = this.skipValue(3);
        delete out[key];
        this.problem('metadata-type', null, at, `__metadata__ value for ${quote(key)} is ${type}, not a string`);
      }
      if (!this.commaOrClose(0x7d)) return out;
    }
  }

  private tensorEntry(name: string, at: number): TensorEntry {
    this.ws();
    if (this.peek() !== 0x7b) {
      const type = this.skipValue(2);
      return { name, at, isObject: false, valueType: type };
    }
    const entry: TensorEntry = { name, at, isObject: true, valueType: 'object' };
    const seen = new Set<string>();
    this.i++;
    this.ws();
    if (this.peek() === 0x7d) {
      this.i++;
      return entry;
    }
    for (;;) {
      this.ws();
      const fieldAt = this.i;
      const field = this.string();
      this.colon();
      if (seen.has(field)) {
        this.problem('duplicate-key', name, fieldAt, `tensor ${quote(name)} repeats field ${quote(field)}; the reference reader rejects duplicate fields`);
      }
      seen.add(field);
      this.ws();
      if (field === 'dtype') {
        entry.dtype = this.peek() === 0x22 ? this.string() : { type: this.skipValue(3) };
      } else if (field === 'shape') {
        entry.shape = this.intList();
      } else if (field === 'data_offsets') {
        entry.offsets = this.intList();
      } else {
        this.skipValue(3); // unknown fields are ignored by the reference reader
      }
      if (!this.commaOrClose(0x7d)) return entry;
    }
  }

  private intList(): IntList {
    if (this.peek() !== 0x5b) return { isArray: false, type: this.skipValue(3), values: [], bad: null };
    const out: IntList = { isArray: true, type: 'array', values: [], bad: null };
    this.i++;
    this.ws();
    if (this.peek() === 0x5d) {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      const c = this.peek();
      if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
        const raw = this.number();
        if (out.bad === null) {
          if (!INTEGER.test(raw) || raw.length > 16 || Number(raw) > Number.MAX_SAFE_INTEGER) out.bad = raw;
          else out.values.push(Number(raw));
        }
      } else {
        const type = this.skipValue(4);
        out.bad ??= `of type ${type}`;
      }
      if (!this.commaOrClose(0x5d)) return out;
    }
  }

  /** Validates one JSON value of any kind and returns its type name. */
  private skipValue(depth: number): string {
    if (depth > MAX_JSON_DEPTH) throw this.fail(`nesting deeper than ${MAX_JSON_DEPTH} levels`);
    this.ws();
    const c = this.peek();
    switch (c) {
      case 0x7b: {
        this.i++;
        this.ws();
        if (this.peek() === 0x7d) {
          this.i++;
          return 'object';
        }
        for (;;) {
          this.ws();
          this.string();
          this.colon();
          this.skipValue(depth + 1);
          if (!this.commaOrClose(0x7d)) return 'object';
        }
      }
      case 0x5b: {
        this.i++;
        this.ws();
        if (this.peek() === 0x5d) {
          this.i++;
          return 'array';
        }
        for (;;) {
          this.skipValue(depth + 1);
          if (!this.commaOrClose(0x5d)) return 'array';
        }
      }
      case 0x22:
        this.string();
        return 'string';
      case 0x74:
        this.literal('true');
        return 'boolean';
      case 0x66:
        this.literal('false');
        return 'boolean';
      case 0x6e:
        this.literal('null');
        return 'null';
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
          this.number();
          return 'number';
        }
        throw this.fail(c < 0 ? 'unexpected end of header' : `unexpected byte 0x${c.toString(16).padStart(2, '0')}`);
    }
  }

  private string(): string {
    if (this.peek() !== 0x22) throw this.fail('expected a string');
    const start = this.i;
    const b = this.b;
    let escaped = false;
    let unicodeEscape = false;
    let k = this.i + 1;
    for (;;) {
      if (k >= b.length) throw this.fail('unterminated string', start);
      const c = b[k];
      if (c === 0x22) break;
      if (c < 0x20) throw this.fail('control character in string', k);
      if (c === 0x5c) {
        escaped = true;
        const e = b[k + 1];
        if (e === 0x75 /* u */) {
          unicodeEscape = true;
          for (let h = 2; h <= 5; h++) {
            const x = b[k + h];
            if (x === undefined || !isHex(x)) throw this.fail('bad \\u escape', k);
          }
          k += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(String.fromCharCode(e))) throw this.fail('bad escape', k);
        k += 2;
        continue;
      }
      k++;
    }
    this.i = k + 1;
    if (!escaped) return utf8.decode(b.subarray(start + 1, k));
    const s = JSON.parse(utf8.decode(b.subarray(start, k + 1))) as string;
    if (unicodeEscape && LONE_SURROGATE.test(s)) throw this.fail('lone surrogate in \\u escape', start);
    return s;
  }

  private number(): string {
    const b = this.b;
    const start = this.i;
    let k = start;
    if (b[k] === 0x2d) k++;
    if (b[k] === 0x30) k++;
    else if (b[k] >= 0x31 && b[k] <= 0x39) while (isDigit(b[k])) k++;
    else throw this.fail('bad number', start);
    if (b[k] === 0x2e) {
      k++;
      if (!isDigit(b[k])) throw this.fail('bad number', start);
      while (isDigit(b[k])) k++;
    }
    if (b[k] === 0x65 || b[k] === 0x45) {
      k++;
      if (b[k] === 0x2b || b[k] === 0x2d) k++;
      if (!isDigit(b[k])) throw this.fail('bad number', start);
      while (isDigit(b[k])) k++;
    }
    this.i = k;
    // Only a token that could be an integer is ever converted, so its length is what matters.
    return k - start > 64 ? utf8.decode(b.subarray(start, start + 64)) + '…' : utf8.decode(b.subarray(start, k));
  }

  private literal(word: string): void {
    for (let k = 0; k < word.length; k++) {
      if (this.b[this.i + k] !== word.charCodeAt(k)) throw this.fail(`bad literal, expected ${word}`);
    }
    this.i += word.length;
  }

  private colon(): void {
    this.ws();
    if (this.peek() !== 0x3a) throw this.fail('expected ":"');
    this.i++;
  }

  /** After a member: true on ',', false on the closing bracket. */
  private commaOrClose(close: number): boolean {
    this.ws();
    const c = this.peek();
    if (c === 0x2c) {
      this.i++;
      this.ws();
      if (this.peek() === close) throw this.fail('trailing comma');
      return true;
    }
    if (c === close) {
      this.i++;
      return false;
    }
    throw this.fail(c < 0 ? 'unexpected end of header' : `expected "," or "${String.fromCharCode(close)}"`);
  }

  private ws(): void {
    const b = this.b;
    while (this.i < b.length && isJsonSpace(b[this.i])) this.i++;
  }

  private peek(): number {
    return this.i < this.b.length ? this.b[this.i] : -1;
  }

  private fail(message: string, at = this.i): JsonSyntaxError {
    return new JsonSyntaxError('header-json', at, `header is not valid JSON at header byte ${at}: ${message}`);
  }
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}
