// Builds GGUF files in memory for tests (the same layout as test/fixtures/gguf/make_gguf.py).
import { concat } from './random.ts';

/** concat for long lists (no argument spreading: a 256k-token vocabulary would overflow the stack). */
function join(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export const GT = { U8: 0, I8: 1, U16: 2, I16: 3, U32: 4, I32: 5, F32: 6, BOOL: 7, STRING: 8, ARRAY: 9, U64: 10, I64: 11, F64: 12 } as const;
const enc = new TextEncoder();

export type KvValue = string | number | bigint | boolean | { array: number; items: KvValue[] };
export interface KvSpec {
  key: string;
  type: number;
  value: KvValue;
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}
function u64(n: number | bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
}
export function ggufString(s: string): Uint8Array {
  const b = enc.encode(s);
  return concat(u64(b.length), b);
}

function value(type: number, v: KvValue): Uint8Array {
  if (type === GT.STRING) return ggufString(String(v));
  if (type === GT.ARRAY) {
    const a = v as { array: number; items: KvValue[] };
    return join([u32(a.array), u64(a.items.length), ...a.items.map((x) => value(a.array, x))]);
  }
  const sizes = [1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8];
  const b = new Uint8Array(sizes[type]);
  const dv = new DataView(b.buffer);
  switch (type) {
    case GT.U8: case GT.BOOL: dv.setUint8(0, Number(v)); break;
    case GT.I8: dv.setInt8(0, Number(v)); break;
    case GT.U16: dv.setUint16(0, Number(v), true); break;
    case GT.I16: dv.setInt16(0, Number(v), true); break;
    case GT.U32: dv.setUint32(0, Number(v), true); break;
    case GT.I32: dv.setInt32(0, Number(v), true); break;
    case GT.F32: dv.setFloat32(0, Number(v), true); break;
    case GT.U64: dv.setBigUint64(0, BigInt(v as number), true); break;
    case GT.I64: dv.setBigInt64(0, BigInt(v as number), true); break;
    default: dv.setFloat64(0, Number(v), true);
  }
  return b;
}

export function kv(key: string, type: number, v: KvValue): Uint8Array {
  return concat(ggufString(key), u32(type), value(type, v));
}

/** A GGUF v3 file with F32 tensors laid out contiguously and aligned to 32, like llama.cpp writes them. */
export function gguf(kvs: KvSpec[], tensors: Array<{ name: string; dims: number[] }> = [{ name: 'token_embd.weight', dims: [8, 4] }]): Uint8Array {
  const parts: Uint8Array[] = [enc.encode('GGUF'), u32(3), u64(tensors.length), u64(kvs.length), ...kvs.map((x) => kv(x.key, x.type, x.value))];
  let offset = 0;
  const sizes: number[] = [];
  for (const t of tensors) {
    const n = t.dims.reduce((a, b) => a * b, 1) * 4;
    parts.push(ggufString(t.name), u32(t.dims.length), ...t.dims.map((d) => u64(d)), u32(0), u64(offset));
    sizes.push(n);
    offset += n + ((32 - (n % 32)) % 32);
  }
  let head = join(parts);
  head = concat(head, new Uint8Array((32 - (head.length % 32)) % 32));
  return concat(head, new Uint8Array(offset));
}

/** Metadata like a converted llama model carries, plus the given chat template. */
export function modelKvs(template?: string): KvSpec[] {
  const kvs: KvSpec[] = [
    { key: 'general.architecture', type: GT.STRING, value: 'llama' },
    { key: 'general.name', type: GT.STRING, value: 'test' },
    { key: 'llama.context_length', type: GT.U32, value: 2048 },
    { key: 'tokenizer.ggml.tokens', type: GT.ARRAY, value: { array: GT.STRING, items: ['<unk>', '<s>', '</s>', 'a', 'b'] } },
    { key: 'tokenizer.ggml.scores', type: GT.ARRAY, value: { array: GT.F32, items: [0, 0, 0, 0, 0] } },
  ];
  if (template !== undefined) kvs.push({ key: 'tokenizer.chat_template', type: GT.STRING, value: template });
  return kvs;
}
