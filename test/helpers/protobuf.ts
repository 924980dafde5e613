// A tiny protobuf wire encoder for building test inputs byte by byte (valid and hostile alike).
import { concat } from './random.ts';

const enc = new TextEncoder();

/** Varint of a non-negative integer (exact up to 2^53) or a bigint (negative ones as 64-bit two's complement). */
export function varint(n: number | bigint): Uint8Array {
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n;
  const out: number[] = [];
  do {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? b | 0x80 : b);
  } while (v > 0n);
  return Uint8Array.from(out);
}

export const tag = (field: number, wire: number) => varint(field * 8 + wire);

/** A varint field. */
export const fv = (field: number, n: number | bigint) => concat(tag(field, 0), varint(n));

/** A length-delimited field with a string, bytes, or concatenated parts. */
export function fb(field: number, ...parts: Array<string | Uint8Array>): Uint8Array {
  const body = concat(...parts.map((p) => (typeof p === 'string' ? enc.encode(p) : p)));
  return concat(tag(field, 2), varint(body.length), body);
}

/** A length-delimited field whose declared length is `declared`, followed by `actual` bytes. */
export const fbLying = (field: number, declared: number | bigint, actual: Uint8Array = new Uint8Array(0)) => concat(tag(field, 2), varint(declared), actual);

export function f32(field: number, x: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, x, true);
  return concat(tag(field, 5), b);
}

export { concat };
