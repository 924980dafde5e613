// The schema-less protobuf wire walker and the schema-driven decoder on top of it: exact values, and
// every hostile shape (lengths past the end, 2^62 prefixes, overlong varints, groups, depth, budgets).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { FormatError, LimitError } from '../../src/formats/errors.ts';
import { ProtoReader, isWellFormed, signed, unsigned } from '../../src/formats/protobuf/index.ts';
import { ProtoBytes, ProtoPayload, compileSchema, decodeMessage } from '../../src/formats/protobuf/schema.ts';
import { BufferSource, type ByteSource } from '../../src/formats/source.ts';
import { concat, f32, fb, fbLying, fv, tag, varint } from '../helpers/protobuf.ts';

const reader = (b: Uint8Array, limits = {}) => new ProtoReader(new BufferSource(b), limits);

function fields(b: Uint8Array): Array<[number, number, number | string]> {
  const r = reader(b);
  const c = r.message(0, b.length, 0);
  const out: Array<[number, number, number | string]> = [];
  while (c.next()) out.push([c.field, c.wire, c.wire === 0 ? c.value : c.wire === 2 ? c.text() : c.start]);
  return out;
}

/** A source that counts the bytes it hands out, to prove payloads are skipped. */
class CountingSource implements ByteSource {
  read_ = 0;
  constructor(readonly bytes: Uint8Array) {}
  get size() {
    return this.bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    const out = this.bytes.slice(offset, Math.min(this.bytes.length, offset + length));
    this.read_ += out.length;
    return out;
  }
}

describe('wire walker', () => {
  it('reads varint, length-delimited and fixed fields', () => {
    const b = concat(fv(1, 150), fb(2, 'hi'), f32(3, 1.5), tag(4, 1), new Uint8Array(8));
    assert.deepEqual(fields(b), [[1, 0, 150], [2, 2, 'hi'], [3, 5, 8], [4, 1, 13]]);
  });

  it('decodes 64-bit varints exactly up to 2^53 and negative int64 as ten bytes', () => {
    for (const n of [0, 1, 127, 128, 2 ** 31, 2 ** 32 + 5, 2 ** 53 - 1]) {
      const r = reader(varint(n));
      const [lo, hi, next] = r.varint(0, 100);
      assert.equal(unsigned(lo, hi), n);
      assert.equal(next, varint(n).length);
    }
    const neg = varint(-2n);
    assert.equal(neg.length, 10);
    const [lo, hi] = reader(neg).varint(0, 10);
    assert.equal(signed(lo, hi), -2);
  });

  it('refuses varints longer than ten bytes or wider than 64 bits', () => {
    assert.throws(() => reader(new Uint8Array(11).fill(0x80)).varint(0, 11), (e: unknown) => e instanceof FormatError && e.code === 'proto-varint');
    assert.throws(() => reader(Uint8Array.from([...new Uint8Array(9).fill(0xff), 0x02])).varint(0, 10), FormatError);
  });

  it('refuses a declared length past the end of its message without allocating it', () => {
    for (const declared of [5, 2 ** 30, 2n ** 62n, 2n ** 64n - 1n]) {
      const b = concat(fv(1, 8), fbLying(7, declared, Uint8Array.from([1, 2, 3])));
      assert.throws(() => fields(b), (e: unknown) => e instanceof FormatError && e.code === 'proto-length', String(declared));
    }
  });

  it('refuses a length that fits the file but not the enclosing message', () => {
    const inner = fbLying(1, 10, new Uint8Array(2));
    const b = concat(fb(1, inner), new Uint8Array(20));
    const r = reader(b);
    const c = r.message(0, inner.length + 2, 0);
    assert.ok(c.next());
    const sub = c.sub();
    assert.throws(() => sub.next(), FormatError);
  });

  it('refuses groups, field 0, truncated tags and fixed fields running past the end', () => {
    assert.throws(() => fields(concat(tag(1, 3), tag(1, 4))), (e: unknown) => e instanceof FormatError && e.code === 'proto-wire');
    assert.throws(() => fields(Uint8Array.from([0x00, 0x01])), FormatError);
    assert.throws(() => fields(Uint8Array.from([0x80])), FormatError);
    assert.throws(() => fields(concat(tag(1, 1), new Uint8Array(4))), FormatError);
    assert.throws(() => fields(concat(tag(1, 0))), FormatError);
  });

  it('bounds nesting depth, field count, string length and decoded text', () => {
    let m = fb(1, 'x');
    for (let i = 0; i < 150; i++) m = fb(1, m);
    const r = reader(m, { maxDepth: 100 });
    const dive = (c: ReturnType<ProtoReader['message']>): void => {
      while (c.next()) if (c.field === 1 && c.length > 1) dive(c.sub());
    };
    assert.throws(() => dive(r.message(0, m.length, 0)), (e: unknown) => e instanceof LimitError && e.limit === 'proto-depth');

    const many = concat(...Array.from({ length: 1000 }, () => fv(1, 1)));
    const r2 = reader(many, { maxFields: 10 });
    const c2 = r2.message(0, many.length, 0);
    assert.throws(() => {
      while (c2.next());
    }, (e: unknown) => e instanceof LimitError && e.limit === 'proto-fields');

    const long = fb(1, 'a'.repeat(5000));
    const c3 = reader(long).message(0, long.length, 0);
    c3.next();
    assert.throws(() => c3.text(4096), (e: unknown) => e instanceof LimitError && e.limit === 'proto-string');
    const c4 = reader(long, { maxTextBytes: 1000 }).message(0, long.length, 0);
    c4.next();
    assert.throws(() => c4.text(), (e: unknown) => e instanceof LimitError && e.limit === 'proto-text');
  });

  it('stops on the deadline', () => {
    const many = concat(...Array.from({ length: 70_000 }, () => fv(1, 1)));
    const c = reader(many, { deadline: Date.now() - 1 }).message(0, many.length, 0);
    assert.throws(() => {
      while (c.next());
    }, (e: unknown) => e instanceof LimitError && e.limit === 'time');
  });

  it('counts packed varints without decoding and tells well-formed ranges apart', () => {
    const packed = concat(varint(1), varint(300), varint(2 ** 40));
    const r = reader(packed);
    assert.equal(r.countVarints(0, packed.length), 3);
    assert.throws(() => reader(Uint8Array.from([0x81])).countVarints(0, 1), FormatError);
    assert.ok(isWellFormed(reader(fv(1, 1)), 0, 2));
    assert.ok(!isWellFormed(reader(fbLying(1, 9)), 0, 2));
  });

  it('reads files through a window, skipping what nobody asks for', () => {
    const payload = new Uint8Array(4 << 20);
    const b = concat(fb(1, payload), fb(2, 'after'));
    const src = new CountingSource(b);
    const c = new ProtoReader(src).message(0, b.length, 0);
    const seen: string[] = [];
    while (c.next()) if (c.field === 2) seen.push(c.text());
    assert.deepEqual(seen, ['after']);
    assert.ok(src.read_ < 200_000, `read ${src.read_} bytes of a ${b.length}-byte input`);
  });
});

describe('schema-driven decoder', () => {
  const root = protobuf.parse(`
    syntax = "proto2";
    message T { repeated int64 dims = 1; optional int32 kind = 2; optional string name = 3; optional bytes raw = 4;
                repeated float vals = 5 [packed = true]; optional T child = 6; repeated T kids = 7; optional sint64 z = 8;
                optional bool flag = 9; optional double d = 10; repeated int64 big = 11 [packed = true]; optional E e = 12; }
    enum E { A = 0; B = 1; }`, { keepCase: true }).root;
  const schema = compileSchema(root.lookupType('T'), (m, f) => m === 'T' && (f === 'raw' || f === 'big'));
  const decode = (b: Uint8Array, opts = {}) => decodeMessage(reader(b), schema, 0, b.length, opts);

  it('decodes scalars, strings, enums, packed and unpacked repeated fields', () => {
    const vals = new Uint8Array(8);
    new DataView(vals.buffer).setFloat32(0, 1.5, true);
    new DataView(vals.buffer).setFloat32(4, -2, true);
    const d = new Uint8Array(8);
    new DataView(d.buffer).setFloat64(0, 0.25, true);
    const m = decode(concat(fv(1, 3), fv(1, 4), fb(1, concat(varint(5), varint(6))), fv(2, -1n), fb(3, 'né'), fb(5, vals), fv(8, 3), fv(9, 1), concat(tag(10, 1), d), fv(12, 1)));
    assert.deepEqual(m.dims, [3, 4, 5, 6]);
    assert.equal(m.kind, -1);
    assert.equal(m.name, 'né');
    assert.deepEqual(m.vals, [1.5, -2]);
    assert.equal(m.z, -2);
    assert.equal(m.flag, true);
    assert.equal(m.d, 0.25);
    assert.equal(m.e, 1);
  });

  it('summarises payload fields without reading them', () => {
    const m = decode(concat(fb(4, new Uint8Array(1000)), fb(11, concat(varint(1), varint(300), varint(7))), fv(11, 9)));
    assert.ok(m.raw instanceof ProtoPayload);
    assert.equal((m.raw as ProtoPayload).bytes, 1000);
    assert.equal((m.big as ProtoPayload).count, 4);
    const skipped = decode(fb(11, concat(varint(1), varint(2))), { countVarintBytes: 1 });
    assert.equal((skipped.big as ProtoPayload).count, null);
  });

  it('merges a singular message seen twice, as protobuf does, and keeps repeated ones apart', () => {
    const m = decode(concat(fb(6, fv(1, 1), fb(3, 'a')), fb(6, fv(1, 2)), fb(7, fb(3, 'k1')), fb(7, fb(3, 'k2'))));
    const child = m.child as { dims: number[]; name: string };
    assert.deepEqual(child.dims, [1, 2]);
    assert.equal(child.name, 'a');
    assert.deepEqual((m.kids as Array<{ name: string }>).map((k) => k.name), ['k1', 'k2']);
  });

  it('skips unknown fields and fields with a mismatched wire type', () => {
    const m = decode(concat(fb(99, 'zzz'), fv(3, 5), fb(2, 'x'), fv(2, 7)));
    assert.equal(m.name, undefined);
    assert.equal(m.kind, 7);
  });

  it('keeps a bounded head of bytes fields that are not payloads', () => {
    const s2 = compileSchema(root.lookupType('T'));
    const b = fb(4, new Uint8Array(5000).fill(7));
    const m = decodeMessage(reader(b), s2, 0, b.length, { bytesHead: 16 });
    assert.ok(m.raw instanceof ProtoBytes);
    assert.equal((m.raw as ProtoBytes).length, 5000);
    assert.equal((m.raw as ProtoBytes).head.length, 16);
  });

  it('bounds the values decoded and the nesting of messages', () => {
    const b = fb(1, concat(...Array.from({ length: 100 }, (_, i) => varint(i))));
    assert.throws(() => decode(b, { maxValues: 50 }), (e: unknown) => e instanceof LimitError && e.limit === 'proto-values');
    let deep = fb(3, 'leaf');
    for (let i = 0; i < 200; i++) deep = fb(6, deep);
    assert.throws(() => decode(deep), (e: unknown) => e instanceof LimitError && e.limit === 'proto-depth');
  });
});
