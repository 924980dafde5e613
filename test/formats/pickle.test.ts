// Tests of the static pickle walker (src/formats/pickle). Every hostile stream is hand-assembled here
// (see research/scanners.md §C.2); the hex constants were produced once with CPython's pickler (and
// joblib 1.2 / numpy 1.24 from Debian's /usr/bin/python3) and pasted — no test runs Python.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FormatError, LimitError } from '../../src/formats/errors.ts';
import { scanPickle, type PickleImport, type PickleScanOptions, type PickleScanResult } from '../../src/formats/pickle/index.ts';
import { BufferSource, FileSource, SliceSource, type ByteSource } from '../../src/formats/source.ts';
import {
  OP, bu, binbytes, binstr, cat, frame, glob, hex, i32, latin1, proto, reduceP2, reduceP4, repeat, sbinstr, sbu, sbytes, sglob,
  str0, u16, u32, u64, uni,
} from '../helpers/pickle-bytes.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

const scan = (bytes: Uint8Array, options?: PickleScanOptions): PickleScanResult => scanPickle(new BufferSource(bytes), options);
const names = (r: PickleScanResult) => r.imports.map((i) => `${i.module}.${i.name}`).sort();
function imp(r: PickleScanResult, module: string, name: string): PickleImport {
  const found = r.imports.find((i) => i.module === module && i.name === name);
  assert.ok(found, `expected import ${module}.${name}; got ${JSON.stringify(names(r))}`);
  return found;
}
function clean(r: PickleScanResult, pickles = 1): void {
  assert.equal(r.error, null, `unexpected error: ${r.error?.message}`);
  assert.equal(r.pickles, pickles);
}
/** Runs scanPickle, which must return (never throw) a FormatError, quickly and without big allocations. */
function formatError(bytes: Uint8Array | ByteSource, code?: string): PickleScanResult {
  const src = bytes instanceof Uint8Array ? new BufferSource(bytes) : bytes;
  const mem0 = process.memoryUsage();
  const t0 = performance.now();
  let r!: PickleScanResult;
  assert.doesNotThrow(() => { r = scanPickle(src); });
  const ms = performance.now() - t0;
  const mem1 = process.memoryUsage();
  assert.ok(r.error instanceof FormatError, `expected FormatError, got ${r.error === null ? 'no error' : `${r.error.name}: ${r.error.message}`}`);
  if (code) assert.equal((r.error as FormatError).code, code);
  assert.ok(ms < 100, `took ${ms.toFixed(1)} ms`);
  assert.ok(mem1.arrayBuffers - mem0.arrayBuffers < 32 << 20, `array buffers grew by ${mem1.arrayBuffers - mem0.arrayBuffers}`);
  assert.ok(mem1.heapUsed - mem0.heapUsed < 64 << 20, `heap grew by ${mem1.heapUsed - mem0.heapUsed}`);
  return r;
}
function limitError(r: PickleScanResult, limit: string): void {
  assert.ok(r.error instanceof LimitError, `expected LimitError(${limit}), got ${r.error === null ? 'no error' : `${r.error.name}: ${r.error.message}`}`);
  assert.equal((r.error as LimitError).limit, limit);
}

/** A source that claims to be huge and records how much anyone asked to read. */
class HugeSource implements ByteSource {
  maxRead = 0;
  totalRead = 0;
  constructor(readonly head: Uint8Array, readonly size: number) {}
  read(offset: number, length: number): Uint8Array {
    const n = Math.max(0, Math.min(length, this.size - offset));
    this.maxRead = Math.max(this.maxRead, n);
    this.totalRead += n;
    const out = new Uint8Array(Math.min(n, 1 << 20)); // never hand out more than 1 MiB (a fake "short read")
    if (offset < this.head.length) out.set(this.head.subarray(offset, offset + out.length));
    return out.length === n ? out : out.subarray(0, out.length);
  }
}

// ---- reference pickles made by CPython 3.11 pickle.dumps(v, protocol=p) ----------------------------
// v = {'d': {'a': 1}, 'l': [1, 2.5, 'x'], 't': (1, 2), 'e': (), 'u': 'héllo ☃', 'i': -5, 'i2': 300,
//      'i4': 70000, 'in': -70000, 'f': 1.5, 'T': True, 'F': False, 'n': None, 'big': 2**100, 'neg': -2**70}
//   + 'b': b'xy\0' (p >= 3), 's': {1, 2}, 'fs': frozenset({3}) (p >= 4), 'ba': bytearray(b'z') (p >= 5)
// i.e. every type the protocol can express without importing anything.
const PLAIN: Record<number, string> = {
  0: '286470300a56640a70310a286470320a56610a70330a49310a7373566c0a70340a286c70350a49310a6146322e350a6156780a70360a617356740a70370a2849310a49320a7470380a7356650a70390a28747356750a7031300a5668e96c6c6f205c75323630330a7031310a7356690a7031320a492d350a735669320a7031330a493330300a735669340a7031340a4937303030300a7356696e0a7031350a492d37303030300a7356660a7031360a46312e350a7356540a7031370a4930310a7356460a7031380a4930300a73566e0a7031390a4e73566269670a7032300a4c313236373635303630303232383232393430313439363730333230353337364c0a73566e65670a7032310a4c2d313138303539313632303731373431313330333432344c0a732e',
  1: '7d71002858010000006471017d710258010000006171034b017358010000006c71045d7105284b014740040000000000005801000000787106655801000000747107284b014b02747108580100000065710929580100000075710a580a00000068c3a96c6c6f20e29883710b580100000069710c4afbffffff58020000006932710d4d2c0158020000006934710e4a701101005802000000696e710f4a90eefeff5801000000667110473ff800000000000058010000005471114930310a58010000004671124930300a58010000006e71134e580300000062696771144c313236373635303630303232383232393430313439363730333230353337364c0a58030000006e656771154c2d313138303539313632303731373431313330333432344c0a752e',
  2: '80027d71002858010000006471017d710258010000006171034b017358010000006c71045d7105284b0147400400000000000058010000007871066558010000007471074b014b02867108580100000065710929580100000075710a580a00000068c3a96c6c6f20e29883710b580100000069710c4afbffffff58020000006932710d4d2c0158020000006934710e4a701101005802000000696e710f4a90eefeff5801000000667110473ff800000000000058010000005471118858010000004671128958010000006e71134e580300000062696771148a0d0000000000000000000000001058030000006e656771158a090000000000000000c0752e',
  3: '80037d71002858010000006471017d710258010000006171034b017358010000006c71045d7105284b0147400400000000000058010000007871066558010000007471074b014b02867108580100000065710929580100000075710a580a00000068c3a96c6c6f20e29883710b580100000069710c4afbffffff58020000006932710d4d2c0158020000006934710e4a701101005802000000696e710f4a90eefeff5801000000667110473ff800000000000058010000005471118858010000004671128958010000006e71134e580300000062696771148a0d0000000000000000000000001058030000006e656771158a090000000000000000c0580100000062711643037879007117752e',
  4: '800495d0000000000000007d94288c0164947d948c0161944b01738c016c945d94284b014740040000000000008c017894658c0174944b014b0286948c016594298c0175948c0a68c3a96c6c6f20e29883948c0169944afbffffff8c026932944d2c018c026934944a701101008c02696e944a90eefeff8c016694473ff80000000000008c015494888c014694898c016e944e8c03626967948a0d000000000000000000000000108c036e6567948a090000000000000000c08c0162944303787900948c0173948f94284b014b02908c02667394284b039194752e',
  5: '800595e0000000000000007d94288c0164947d948c0161944b01738c016c945d94284b014740040000000000008c017894658c0174944b014b0286948c016594298c0175948c0a68c3a96c6c6f20e29883948c0169944afbffffff8c026932944d2c018c026934944a701101008c02696e944a90eefeff8c016694473ff80000000000008c015494888c014694898c016e944e8c03626967948a0d000000000000000000000000108c036e6567948a090000000000000000c08c0162944303787900948c0173948f94284b014b02908c02667394284b0391948c026261949601000000000000007a94752e',
};
// w = {'s': {1, 2}, 'fs': frozenset({3}), 'b': b'xy', 'ba': bytearray(b'z')}: older protocols need globals for these.
const TYPES: Record<number, string> = {
  0: '286470300a56730a70310a635f5f6275696c74696e5f5f0a7365740a70320a28286c70330a49310a6149320a617470340a5270350a735666730a70360a635f5f6275696c74696e5f5f0a66726f7a656e7365740a70370a28286c70380a49330a617470390a527031300a7356620a7031310a635f636f646563730a656e636f64650a7031320a285678790a7031330a566c6174696e310a7031340a747031350a527031360a735662610a7031370a635f5f6275696c74696e5f5f0a6279746561727261790a7031380a286731320a28567a0a7031390a6731340a747032300a527032310a747032320a527032330a732e',
  1: '7d7100285801000000737101635f5f6275696c74696e5f5f0a7365740a7102285d7103284b014b0265747104527105580200000066737106635f5f6275696c74696e5f5f0a66726f7a656e7365740a7107285d71084b036174710952710a580100000062710b635f636f646563730a656e636f64650a710c2858020000007879710d58060000006c6174696e31710e74710f527110580200000062617111635f5f6275696c74696e5f5f0a6279746561727261790a711228680c2858010000007a7113680e747114527115747116527117752e',
  2: '80027d7100285801000000737101635f5f6275696c74696e5f5f0a7365740a71025d7103284b014b0265857104527105580200000066737106635f5f6275696c74696e5f5f0a66726f7a656e7365740a71075d71084b036185710952710a580100000062710b635f636f646563730a656e636f64650a710c58020000007879710d58060000006c6174696e31710e86710f527110580200000062617111635f5f6275696c74696e5f5f0a6279746561727261790a7112680c58010000007a7113680e867114527115857116527117752e',
  3: '80037d7100285801000000737101636275696c74696e730a7365740a71025d7103284b014b0265857104527105580200000066737106636275696c74696e730a66726f7a656e7365740a71075d71084b036185710952710a580100000062710b43027879710c58020000006261710d636275696c74696e730a6279746561727261790a710e43017a710f857110527111752e',
  4: '8004954a000000000000007d94288c0173948f94284b014b02908c02667394284b0391948c01629443027879948c026261948c086275696c74696e73948c0962797465617272617994939443017a9485945294752e',
  5: '80059534000000000000007d94288c0173948f94284b014b02908c02667394284b0391948c01629443027879948c026261949601000000000000007a94752e',
};
const TYPES_IMPORTS: Record<number, string[]> = {
  0: ['__builtin__.bytearray', '__builtin__.frozenset', '__builtin__.set', '_codecs.encode'],
  1: ['__builtin__.bytearray', '__builtin__.frozenset', '__builtin__.set', '_codecs.encode'],
  2: ['__builtin__.bytearray', '__builtin__.frozenset', '__builtin__.set', '_codecs.encode'],
  3: ['builtins.bytearray', 'builtins.frozenset', 'builtins.set'],
  4: ['builtins.bytearray'],
  5: [],
};

describe('plain data, protocols 0-5', () => {
  for (let p = 0; p <= 5; p++) {
    it(`protocol ${p}: one pickle, no imports, no error`, () => {
      const bytes = hex(PLAIN[p]);
      const r = scan(bytes);
      clean(r);
      assert.deepEqual(r.imports, []);
      assert.deepEqual(r.callsOfCalls, []);
      assert.deepEqual(r.nested, []);
      assert.deepEqual(r.frameViolations, []);
      assert.equal(r.trailing, null);
      assert.equal(r.protocol, p === 1 ? 0 : p); // protocol 1 writes no PROTO opcode
      assert.equal(r.endOffset, bytes.length);
    });
    it(`protocol ${p}: set/frozenset/bytes/bytearray need exactly the data-type globals`, () => {
      const r = scan(hex(TYPES[p]));
      clean(r);
      assert.deepEqual(names(r), TYPES_IMPORTS[p]);
    });
  }
  it('framed protocol-4 pickle with an unframed large BINBYTES has no frame violations', () => {
    // pickle.dumps([b'x' * 70000, 'after'], protocol=4): the framer writes big payloads outside frames.
    const bytes = cat(proto(4), OP.EMPTY_LIST, OP.MEMOIZE, OP.MARK, binbytes(latin1('x'.repeat(70000))), frame(11), OP.MEMOIZE, sbu('after'), OP.MEMOIZE, OP.APPENDS, OP.STOP);
    assert.equal(bytes.length, 70030);
    const r = scan(bytes);
    clean(r);
    assert.deepEqual(r.frameViolations, []);
    assert.deepEqual(r.imports, []);
  });
});

describe('imports and calls', () => {
  it('GLOBAL + REDUCE: module/name/opcode/offset, one call, rendered args', () => {
    const r = scan(cat(proto(2), glob('os', 'system'), bu('echo hi'), OP.TUPLE1, OP.REDUCE, OP.STOP));
    clean(r);
    assert.equal(r.imports.length, 1);
    const i = imp(r, 'os', 'system');
    assert.equal(i.opcode, 'GLOBAL');
    assert.equal(i.offset, 2);
    assert.equal(i.count, 1);
    assert.equal(i.calls, 1);
    assert.equal(i.args, '("echo hi",)');
    assert.deepEqual(i.argsSeen, ['("echo hi",)']);
    assert.equal(i.unresolved, false);
    assert.equal(i.extCode, null);
    assert.equal(i.protocol, 2);
  });

  it('an import that is never called has calls 0 and args null; a second call keeps the first args', () => {
    const g = glob('posix', 'system');
    const r = scan(cat(proto(2), g, OP.POP, g, bu('one'), OP.TUPLE1, OP.REDUCE, OP.POP, g, bu('two'), OP.TUPLE1, OP.REDUCE, OP.STOP));
    clean(r);
    const i = imp(r, 'posix', 'system');
    assert.equal(i.count, 3);
    assert.equal(i.calls, 2);
    assert.equal(i.offset, 2);
    assert.equal(i.args, '("one",)');
    assert.deepEqual(i.argsSeen, ['("one",)', '("two",)']);
    const r2 = scan(cat(proto(2), glob('collections', 'OrderedDict'), OP.STOP));
    assert.equal(imp(r2, 'collections', 'OrderedDict').calls, 0);
    assert.equal(imp(r2, 'collections', 'OrderedDict').args, null);
  });

  const operandKinds: Array<[string, (s: string) => Uint8Array]> = [
    ['SHORT_BINUNICODE', sbu],
    ['BINUNICODE', bu],
    ['UNICODE', uni],
    ['STRING', str0],
    ['BINSTRING', binstr],
    ['SHORT_BINSTRING', sbinstr],
  ];
  for (const [kind, mk] of operandKinds) {
    it(`STACK_GLOBAL with ${kind} operands`, () => {
      const head = cat(proto(4), mk('subprocess'), mk('getoutput'));
      const r = scan(cat(head, OP.STACK_GLOBAL, sbu('echo hi'), OP.TUPLE1, OP.REDUCE, OP.STOP));
      clean(r);
      assert.equal(r.imports.length, 1);
      const i = imp(r, 'subprocess', 'getoutput');
      assert.equal(i.opcode, 'STACK_GLOBAL');
      assert.equal(i.offset, head.length);
      assert.equal(i.unresolved, false);
      assert.equal(i.calls, 1);
      assert.equal(i.args, '("echo hi",)');
    });
  }

  it('STRING operands with escapes and double quotes are unescaped', () => {
    const r = scan(cat(proto(4), OP.STRING, '"o\\x73"\n', OP.STRING, "'sys\\164em'\n", OP.STACK_GLOBAL, OP.STOP));
    clean(r);
    imp(r, 'os', 'system');
  });

  it('UNICODE operands with \\u escapes are decoded', () => {
    const r = scan(cat(proto(4), uni('\\u006fs'), uni('syst\\u0065m'), OP.STACK_GLOBAL, OP.STOP));
    clean(r);
    imp(r, 'os', 'system');
  });

  it('INST imports and calls with the MARKed arguments', () => {
    const head = cat(OP.MARK, uni('echo hi'));
    const r = scan(cat(head, OP.INST, 'subprocess\ngetoutput\n', OP.STOP));
    clean(r);
    const i = imp(r, 'subprocess', 'getoutput');
    assert.equal(i.opcode, 'INST');
    assert.equal(i.offset, head.length);
    assert.equal(i.calls, 1);
    assert.equal(i.args, '("echo hi",)');
    assert.equal(i.protocol, 0);
  });

  const exts: Array<['EXT1' | 'EXT2' | 'EXT4', Uint8Array, number]> = [
    ['EXT1', cat(OP.EXT1, 42), 42],
    ['EXT2', cat(OP.EXT2, u16(0x1234)), 0x1234],
    ['EXT4', cat(OP.EXT4, i32(0x01020304)), 0x01020304],
  ];
  for (const [name, op, code] of exts) {
    it(`${name} records the extension code and the call`, () => {
      const r = scan(cat(proto(2), op, bu('echo hi'), OP.TUPLE1, OP.REDUCE, OP.STOP));
      clean(r);
      assert.equal(r.imports.length, 1);
      const i = r.imports[0];
      assert.equal(i.opcode, name);
      assert.equal(i.extCode, code);
      assert.equal(i.offset, 2);
      assert.equal(i.calls, 1);
      assert.equal(i.args, '("echo hi",)');
    });
  }

  it('OBJ calls the class at the MARK with the rest as arguments', () => {
    const r = scan(cat(proto(4), OP.MARK, sglob('builtins', 'exec'), sbu('print(1)'), OP.OBJ, OP.STOP));
    clean(r);
    const i = imp(r, 'builtins', 'exec');
    assert.equal(i.opcode, 'STACK_GLOBAL');
    assert.equal(i.offset, 3 + sbu('builtins').length + sbu('exec').length);
    assert.equal(i.calls, 1);
    assert.equal(i.args, '("print(1)",)');
  });

  it('OBJ whose result is discarded by POP still counts the call', () => {
    const r = scan(cat(proto(4), OP.MARK, sglob('smtplib', 'SMTP'), sbu('mail.example.invalid'), OP.OBJ, OP.POP, OP.NONE, OP.STOP));
    clean(r);
    assert.equal(imp(r, 'smtplib', 'SMTP').calls, 1);
  });

  it('NEWOBJ', () => {
    const r = scan(cat(proto(2), glob('smtplib', 'SMTP'), bu('host'), OP.TUPLE1, OP.NEWOBJ, OP.STOP));
    clean(r);
    const i = imp(r, 'smtplib', 'SMTP');
    assert.equal(i.calls, 1);
    assert.equal(i.args, '("host",)');
  });

  it('NEWOBJ_EX renders positional and keyword arguments', () => {
    const r = scan(cat(proto(4), sglob('mymod', 'Thing'), sbu('a'), OP.TUPLE1, OP.EMPTY_DICT, sbu('k'), OP.NEWTRUE, OP.SETITEM, OP.NEWOBJ_EX, OP.STOP));
    clean(r);
    const i = imp(r, 'mymod', 'Thing');
    assert.equal(i.calls, 1);
    assert.ok(i.args !== null && i.args.includes('"a"') && i.args.includes('"k"') && i.args.includes('True'), String(i.args));
  });

  it('call of a call (REDUCE whose callable is a REDUCE result) is reported with the inner import', () => {
    // object.__getattribute__(__import__("os"), "system")("echo hi")   (research §C.2-e)
    const head = cat(
      proto(4),
      sglob('builtins', 'object.__getattribute__'),
      sglob('builtins', '__import__'), sbu('os'), OP.TUPLE1, OP.REDUCE,
      sbu('system'), OP.TUPLE2, OP.REDUCE,
      sbu('echo hi'), OP.TUPLE1,
    );
    const r = scan(cat(head, OP.REDUCE, OP.STOP));
    clean(r);
    assert.equal(r.callsOfCalls.length, 1);
    const c = r.callsOfCalls[0];
    assert.equal(c.opcode, 'REDUCE');
    assert.equal(c.offset, head.length);
    assert.ok(c.inner);
    assert.equal(c.inner.module, 'builtins');
    assert.equal(c.inner.name, 'object.__getattribute__');
    assert.ok(c.inner.args.includes('"system"'), c.inner.args);
    assert.equal(imp(r, 'builtins', '__import__').args, '("os",)');
  });

  it('a plain REDUCE is not a call of a call', () => {
    const r = scan(reduceP4('os', 'system', 'x'));
    assert.deepEqual(r.callsOfCalls, []);
  });
});

describe('memo indirection', () => {
  const tail = cat(sbu('echo hi'), OP.TUPLE1, OP.REDUCE, OP.STOP);
  // Decoy strings between the stores and the recall fool any "two previous strings" look-back.
  const decoy = cat(sbu('collections'), sbu('OrderedDict'), OP.POP, OP.POP);

  it('PUT/GET (text indices)', () => {
    const r = scan(cat(proto(4), uni('os'), OP.PUT, '2\n', OP.POP, uni('system'), OP.PUT, '3\n', OP.POP, decoy, OP.GET, '2\n', OP.GET, '3\n', OP.STACK_GLOBAL, tail));
    clean(r);
    assert.deepEqual(names(r), ['os.system']);
    assert.equal(imp(r, 'os', 'system').calls, 1);
  });

  it('BINPUT/BINGET', () => {
    const r = scan(cat(proto(3), bu('posix'), OP.BINPUT, 5, OP.POP, bu('system'), OP.BINPUT, 6, OP.POP, decoy, OP.BINGET, 5, OP.BINGET, 6, OP.STACK_GLOBAL, tail));
    clean(r);
    assert.deepEqual(names(r), ['posix.system']);
  });

  it('LONG_BINPUT/LONG_BINGET with indices beyond 2^16', () => {
    const r = scan(cat(proto(4), sbu('posix'), OP.LONG_BINPUT, u32(70000), OP.POP, sbu('system'), OP.LONG_BINPUT, u32(0x7fffffff), OP.POP, decoy,
      OP.LONG_BINGET, u32(70000), OP.LONG_BINGET, u32(0x7fffffff), OP.STACK_GLOBAL, tail));
    clean(r);
    assert.deepEqual(names(r), ['posix.system']);
  });

  it('MEMOIZE then BINGET, with a later PUT overwriting a slot', () => {
    const r = scan(cat(proto(4), sbu('builtins'), OP.MEMOIZE, OP.POP, sbu('len'), OP.MEMOIZE, OP.POP, sbu('eval'), OP.BINPUT, 1, OP.POP, decoy,
      OP.BINGET, 0, OP.BINGET, 1, OP.STACK_GLOBAL, tail));
    clean(r);
    assert.deepEqual(names(r), ['builtins.eval']);
  });

  it('a memoised global called twice through BINGET counts both calls', () => {
    const r = scan(cat(proto(4), sglob('os', 'system'), OP.MEMOIZE, sbu('a'), OP.TUPLE1, OP.REDUCE, OP.POP, OP.BINGET, 0, sbu('b'), OP.TUPLE1, OP.REDUCE, OP.STOP));
    clean(r);
    const i = imp(r, 'os', 'system');
    assert.equal(i.count, 1);
    assert.equal(i.calls, 2);
  });

  it('BINGET of a never-written slot feeding STACK_GLOBAL is an unresolved import, not a crash', () => {
    const head = cat(proto(4), OP.BINGET, 3, OP.BINGET, 0);
    const r = scan(cat(head, OP.STACK_GLOBAL, tail));
    assert.equal(r.error, null);
    assert.equal(r.imports.length, 1);
    const i = r.imports[0];
    assert.equal(i.unresolved, true);
    assert.equal(i.opcode, 'STACK_GLOBAL');
    assert.equal(i.offset, head.length);
    assert.equal(i.calls, 1);
  });

  it('a non-string STACK_GLOBAL operand (int) is unresolved; so is an int recalled from the memo', () => {
    const r = scan(cat(proto(4), OP.BININT1, 5, sbu('system'), OP.STACK_GLOBAL, OP.STOP));
    clean(r);
    assert.equal(r.imports.length, 1);
    assert.equal(r.imports[0].unresolved, true);
    assert.equal(r.imports[0].name, 'system');
    const r2 = scan(cat(proto(4), sbu('os'), OP.MEMOIZE, OP.POP, OP.BININT1, 7, OP.MEMOIZE, OP.POP, OP.BINGET, 0, OP.BINGET, 1, OP.STACK_GLOBAL, OP.STOP));
    clean(r2);
    assert.equal(r2.imports.length, 1);
    assert.equal(r2.imports[0].unresolved, true);
    assert.equal(r2.imports[0].module, 'os');
  });
});

describe('stacked pickles and trailing data', () => {
  const a = reduceP4('os', 'system', 'a');
  const b = reduceP2('subprocess', 'getoutput', 'b');

  it('two pickles back to back: both counted, imports from both', () => {
    const r = scan(cat(a, b));
    clean(r, 2);
    assert.deepEqual(names(r), ['os.system', 'subprocess.getoutput']);
    assert.equal(imp(r, 'subprocess', 'getoutput').offset, a.length + 2);
    assert.equal(r.trailing, null);
    assert.equal(r.endOffset, a.length + b.length);
  });

  it('pickles: 1 stops after the first pickle', () => {
    const r = scan(cat(a, b), { pickles: 1 });
    clean(r, 1);
    assert.deepEqual(names(r), ['os.system']);
    assert.equal(r.endOffset, a.length);
  });

  it('pickles: 3 with only two present is a FormatError', () => {
    const r = scan(cat(a, b), { pickles: 3 });
    assert.ok(r.error instanceof FormatError);
    assert.equal(r.pickles, 2);
  });

  it('start/end options restrict the walk to a window', () => {
    const r = scan(cat(a, b), { start: a.length });
    clean(r, 1);
    assert.deepEqual(names(r), ['subprocess.getoutput']);
    const r2 = scan(cat(a, b, latin1('junk')), { end: a.length + b.length });
    clean(r2, 2);
    assert.equal(r2.trailing, null);
  });

  it('trailing garbage after a complete pickle is reported as trailing, not as an error', () => {
    const r = scan(cat(a, [0xff, 0xfe], ' garbage'));
    clean(r, 1);
    assert.deepEqual(r.trailing, { offset: a.length, length: 10 });
    assert.deepEqual(names(r), ['os.system']);
  });

  it('garbage after a payload without STOP is an error, and the import before the break is kept', () => {
    // research §C.2-n (nullifAI): the loader has already run posix.system when it hits the bad bytes
    const bytes = cat(proto(2), glob('posix', 'system'), bu('echo hi'), OP.TUPLE1, OP.REDUCE, [0xff, 0xfe], ' garbage');
    const r = formatError(bytes, 'PICKLE_BAD_OPCODE');
    assert.equal(r.pickles, 0);
    assert.equal(r.trailing, null);
    const i = imp(r, 'posix', 'system');
    assert.equal(i.calls, 1);
    assert.equal(i.args, '("echo hi",)');
  });

  it('a second pickle that imports and then breaks is an error, not trailing data', () => {
    const r = scan(cat(a, glob('posix', 'system'), [0xff]));
    assert.ok(r.error instanceof FormatError);
    assert.equal(r.trailing, null);
    assert.deepEqual(names(r), ['os.system', 'posix.system']);
  });
});

describe('malformed input: a FormatError, quickly, without allocating claimed sizes', () => {
  it('truncated inside an argument', () => {
    formatError(cat(proto(4), sbu('os'), OP.SHORT_BINUNICODE, 10, 'abc'), 'PICKLE_TRUNCATED');
    formatError(cat(proto(4), OP.BININT), 'PICKLE_TRUNCATED');
    formatError(cat(OP.GLOBAL, 'os\nsys'), 'PICKLE_TRUNCATED');
  });
  it('truncated before STOP', () => {
    formatError(cat(proto(4), OP.NONE), 'PICKLE_TRUNCATED');
  });
  it('invalid opcode', () => {
    formatError(cat(proto(2), OP.NONE, 0xff), 'PICKLE_BAD_OPCODE');
    formatError(Uint8Array.of(0x00), 'PICKLE_BAD_OPCODE');
  });
  it('unsupported protocol', () => {
    formatError(cat(proto(6), OP.NONE, OP.STOP), 'PICKLE_BAD_PROTO');
  });
  it('stack underflow', () => {
    formatError(cat(proto(2), OP.REDUCE), 'PICKLE_STACK_UNDERFLOW');
    formatError(cat(proto(2), OP.NONE, OP.MARK, OP.TUPLE1), 'PICKLE_STACK_UNDERFLOW');
    formatError(cat(proto(2), OP.STOP), 'PICKLE_STACK_UNDERFLOW');
  });
  it('POP_MARK (and TUPLE) without MARK', () => {
    formatError(cat(proto(2), OP.NONE, OP.POP_MARK), 'PICKLE_NO_MARK');
    formatError(cat(proto(2), OP.NONE, OP.TUPLE), 'PICKLE_NO_MARK');
  });
  it('negative BINSTRING length', () => {
    formatError(cat(proto(1), OP.BINSTRING, i32(-1), 'abc', OP.STOP), 'PICKLE_BAD_LENGTH');
    formatError(cat(proto(1), OP.BINUNICODE, i32(-5), 'abc', OP.STOP), 'PICKLE_BAD_LENGTH');
  });
  it('BINUNICODE8 / BINBYTES8 / BYTEARRAY8 claiming 2^63 bytes', () => {
    formatError(cat(proto(4), OP.BINUNICODE8, u64(1n << 63n), 'abc', OP.STOP), 'PICKLE_TRUNCATED');
    formatError(cat(proto(4), OP.BINBYTES8, u64(0xffffffffffffffffn), 'abc', OP.STOP), 'PICKLE_TRUNCATED');
    formatError(cat(proto(5), OP.BYTEARRAY8, u64((1n << 53n) + 1n), 'abc', OP.STOP), 'PICKLE_TRUNCATED');
  });
  it('LONG4 claiming 2^31 bytes (and 2^31 - 1)', () => {
    formatError(cat(proto(2), OP.LONG4, u32(0x80000000), 'abc', OP.STOP));
    formatError(cat(proto(2), OP.LONG4, u32(0x7fffffff), 'abc', OP.STOP), 'PICKLE_TRUNCATED');
  });
  it('BINBYTES claiming 4 GiB - 1', () => {
    formatError(cat(proto(3), OP.BINBYTES, u32(0xffffffff), 'abc', OP.STOP), 'PICKLE_TRUNCATED');
  });
  it('FRAME claiming more than the stream holds', () => {
    formatError(cat(proto(4), frame(1n << 40n), OP.NONE, OP.STOP), 'PICKLE_TRUNCATED');
  });
  it('invalid UTF-8 in a GLOBAL line', () => {
    formatError(cat(OP.GLOBAL, 'mod\n', 0xf8, '\n', OP.STOP), 'PICKLE_BAD_UTF8');
    formatError(cat(proto(2), OP.GLOBAL, 'os', [0xc3, 0x28], '\nsystem\n', OP.STOP), 'PICKLE_BAD_UTF8');
  });
  it('malformed memo index and integer text', () => {
    formatError(cat(OP.NONE, OP.PUT, 'x1\n', OP.STOP), 'PICKLE_BAD_MEMO');
    formatError(cat(OP.INT, '12ab\n', OP.STOP), 'PICKLE_BAD_INT');
  });
  it('a bytes payload far larger than memory is skipped, never read', () => {
    // BINBYTES8 of 3 GiB inside a source claiming 3 GiB + header: the walker must seek past it.
    const head = cat(proto(4), OP.BINBYTES8, u64(3 * 2 ** 30));
    const tailAt = head.length + 3 * 2 ** 30;
    const src = new HugeSource(head, tailAt + 1);
    // the byte after the payload is 0 (our fake source returns zeros): an invalid opcode, so a FormatError at tailAt
    const r = formatError(src, 'PICKLE_BAD_OPCODE');
    assert.equal(r.error?.offset, tailAt);
    assert.ok(src.totalRead < 64 << 20, `read ${src.totalRead} bytes`);
  });
});

describe('limits', () => {
  it('maxMemo: 20 MEMOIZEs with maxMemo 10 is a LimitError', () => {
    const r = scan(cat(proto(4), OP.NONE, repeat(Uint8Array.of(OP.MEMOIZE), 20), OP.STOP), { limits: { maxMemo: 10 } });
    limitError(r, 'pickle-memo');
  });
  it('maxMemo: 20 sequential BINPUTs with maxMemo 10 is a LimitError', () => {
    const puts = Array.from({ length: 20 }, (_, k) => cat(OP.BINPUT, k));
    const r = scan(cat(proto(2), OP.NONE, ...puts, OP.STOP), { limits: { maxMemo: 10 } });
    limitError(r, 'pickle-memo');
  });
  it('maxMemo: 20 sparse LONG_BINPUTs with maxMemo 10 is a LimitError', () => {
    const puts = Array.from({ length: 20 }, (_, k) => cat(OP.LONG_BINPUT, u32(1000 + k * 7919)));
    const r = scan(cat(proto(2), OP.NONE, ...puts, OP.STOP), { limits: { maxMemo: 10 } });
    limitError(r, 'pickle-memo');
  });
  it('maxMemo: overwriting one slot many times is not a new entry', () => {
    const r = scan(cat(proto(2), OP.NONE, repeat(cat(OP.BINPUT, 0), 50), OP.STOP), { limits: { maxMemo: 10 } });
    clean(r);
  });
  it('maxStack', () => {
    const r = scan(cat(proto(2), repeat(Uint8Array.of(OP.NONE), 200), OP.STOP), { limits: { maxStack: 100 } });
    limitError(r, 'pickle-stack');
    clean(scan(cat(proto(2), repeat(Uint8Array.of(OP.NONE), 50), OP.STOP), { limits: { maxStack: 100 } }));
  });
  it('maxMarks', () => {
    const r = scan(cat(proto(2), repeat(Uint8Array.of(OP.MARK), 20), OP.NONE, OP.STOP), { limits: { maxMarks: 10 } });
    limitError(r, 'pickle-marks');
  });
  it('maxImports', () => {
    const r = scan(cat(proto(2), glob('a', 'b'), glob('c', 'd'), glob('e', 'f'), OP.STOP), { limits: { maxImports: 2 } });
    limitError(r, 'pickle-imports');
    assert.equal(r.imports.length, 2);
  });
  it('maxOpcodes', () => {
    const r = scan(cat(proto(2), repeat(Uint8Array.of(OP.NONE, OP.POP), 70000), OP.NONE, OP.STOP), { limits: { maxOpcodes: 1000 } });
    limitError(r, 'pickle-opcodes');
  });
  it("a deadline in the past with > 65536 opcodes is LimitError('time')", () => {
    const body = repeat(Uint8Array.of(OP.NONE, OP.POP), 70000);
    const r = scan(cat(proto(2), body, OP.NONE, OP.STOP), { limits: { deadline: Date.now() - 1000 } });
    limitError(r, 'time');
    clean(scan(cat(proto(2), body, OP.NONE, OP.STOP)));
  });
  it('DUP + TUPLE2 x 100k (billion-laughs shape) is fast, bounded, and reported as an expansion', () => {
    const body = repeat(Uint8Array.of(OP.DUP, OP.TUPLE2), 100_000);
    const bytes = cat(proto(4), sglob('collections', 'OrderedDict'), OP.NONE, body, OP.TUPLE1, OP.REDUCE, OP.STOP);
    globalThis.gc?.();
    const h0 = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    let r!: PickleScanResult;
    assert.doesNotThrow(() => { r = scan(bytes); });
    const ms = performance.now() - t0;
    const grown = process.memoryUsage().heapUsed - h0;
    assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
    assert.ok(grown < 100 << 20, `heap grew by ${grown}`);
    // 2^100000 logical values from 200k opcodes: a LimitError, never an attempt to expand
    limitError(r, 'pickle-expansion');
    imp(r, 'collections', 'OrderedDict');
  });
  it('memo GET doubling x 100k is fast, bounded, and reported as an expansion', () => {
    // memo[0] = (memo[0], memo[0]) repeatedly
    const step = Uint8Array.of(OP.BINGET, 0, OP.BINGET, 0, OP.TUPLE2, OP.BINPUT, 0, OP.POP);
    const bytes = cat(proto(2), OP.NONE, OP.BINPUT, 0, repeat(step, 100_000), OP.STOP);
    const t0 = performance.now();
    let r!: PickleScanResult;
    assert.doesNotThrow(() => { r = scan(bytes); });
    assert.ok(performance.now() - t0 < 2000);
    limitError(r, 'pickle-expansion');
  });
  it('modest sharing (DUP + TUPLE2 x 16) is not an expansion', () => {
    const r = scan(cat(proto(4), OP.NONE, repeat(Uint8Array.of(OP.DUP, OP.TUPLE2), 16), OP.STOP));
    clean(r);
  });
  it('DUP + TUPLE2 x 100k with a tiny deadline still returns (time or expansion), never throws', () => {
    const bytes = cat(proto(4), OP.NONE, repeat(Uint8Array.of(OP.DUP, OP.TUPLE2), 100_000), OP.STOP);
    const r = scan(bytes, { limits: { deadline: Date.now() - 1 } });
    assert.ok(r.error instanceof LimitError);
  });
});

describe('FRAME', () => {
  it('a well-formed framed protocol-4 pickle has no frame violations', () => {
    const r = scan(hex(PLAIN[4]));
    clean(r);
    assert.deepEqual(r.frameViolations, []);
  });

  /** research §C.2-m: FRAME of 2 bytes ends inside BINBYTES' length; the file loader restarts at the frame end. */
  function divergence(cmd = 'echo hi', fill = 'a'): { bytes: Uint8Array; globalAt: number } {
    const payload = cat(glob('posix', 'system'), uni(cmd), OP.TUPLE1, OP.REDUCE, OP.MARK);
    assert.ok(payload.length <= 261);
    const padded = cat(payload, repeat(Uint8Array.of(OP.NONE), 261 - payload.length));
    const head = cat(proto(5), OP.NONE, OP.UNICODE, fill.repeat(8192 * 16 - 17), '\n', OP.POP, OP.MARK, frame(2), OP.BINBYTES, [0x07, 0x01, 0x00, 0x00], [0x00, 0x00]);
    return { bytes: cat(head, padded, OP.POP_MARK, OP.STOP), globalAt: head.length };
  }

  it('the FRAME-divergence construction yields a frame violation and the hidden posix.system import', () => {
    const { bytes, globalAt } = divergence();
    const r = scan(bytes);
    clean(r);
    assert.ok(r.frameViolations.length >= 1);
    const i = imp(r, 'posix', 'system');
    assert.equal(i.offset, globalAt);
    assert.equal(i.calls, 1);
    assert.equal(i.args, '("echo hi",)');
  });

  it('the construction matches the corpus sample frame_divergence.pkl byte for byte (modulo command and filler)', () => {
    const file = new Uint8Array(readFileSync(join(FIXTURES, 'corpus/opcode/frame_divergence.pkl')));
    const { bytes } = divergence('echo MG_PUB_CANARY_$((6*7))_p034', 'z');
    assert.equal(Buffer.compare(Buffer.from(file), Buffer.from(bytes)), 0);
  });

  it('findings common to both walks are not reported twice', () => {
    // a call of a call, then a harmless straddle (BININT2 whose argument crosses a 2-byte FRAME)
    const coc = cat(sglob('importlib', 'import_module'), sbu('os'), OP.TUPLE1, OP.REDUCE, sbu('x'), OP.TUPLE1, OP.REDUCE);
    const r = scan(cat(proto(4), coc, frame(2), OP.BININT2, 0x00, OP.NONE, OP.NONE, OP.POP, OP.STOP));
    clean(r);
    assert.ok(r.frameViolations.length >= 1);
    assert.equal(r.callsOfCalls.length, 1, JSON.stringify(r.callsOfCalls));
  });

  it('a FRAME opened inside another frame is a violation', () => {
    const body = cat(OP.NONE, frame(2), OP.NONE, OP.POP);
    const r = scan(cat(proto(4), frame(body.length + 1), body, OP.STOP));
    assert.ok(r.frameViolations.length >= 1);
  });
});

describe('nested pickle candidates', () => {
  const inner = hex('800263706f7369780a73797374656d0a710058070000006563686f20686971018571025271032e'); // pickle.dumps(R(os.system, ('echo hi',)), 2)

  it('pickle.loads(b"<protocol-2 pickle>") yields one candidate at the bytes payload', () => {
    const head = cat(proto(3), glob('pickle', 'loads'), OP.SHORT_BINBYTES, inner.length);
    const r = scan(cat(head, inner, OP.TUPLE1, OP.REDUCE, OP.STOP));
    clean(r);
    assert.equal(imp(r, 'pickle', 'loads').calls, 1);
    assert.equal(r.nested.length, 1);
    const c = r.nested[0];
    assert.equal(c.offset, head.length);
    assert.equal(c.length, inner.length);
    assert.equal(c.bytes, null);
    const innerScan = scan(cat(head, inner, OP.TUPLE1, OP.REDUCE, OP.STOP).subarray(c.offset, c.offset + c.length));
    clean(innerScan);
    assert.equal(imp(innerScan, 'posix', 'system').args, '("echo hi",)');
  });

  it('a nested pickle in a BINBYTES larger than the kept-string limit is still a candidate', () => {
    const big = cat(proto(2), glob('posix', 'system'), bu('x'.repeat(6000)), OP.TUPLE1, OP.REDUCE, OP.STOP);
    const head = cat(proto(3), glob('pickle', 'loads'), OP.BINBYTES, u32(big.length));
    const bytes = cat(head, big, OP.TUPLE1, OP.REDUCE, OP.STOP);
    const r = scan(bytes);
    clean(r);
    assert.deepEqual(r.nested.map((n) => [n.offset, n.length]), [[head.length, big.length]]);
    const inner2 = scanPickle(new SliceSource(new BufferSource(bytes), head.length, big.length));
    clean(inner2);
    imp(inner2, 'posix', 'system');
  });

  it('bytes that do not look like a pickle are not candidates', () => {
    const r = scan(cat(proto(3), sbytes(latin1('hello world, not a pickle.')), OP.STOP));
    clean(r);
    assert.deepEqual(r.nested, []);
  });

  it('a str constant holding a latin-1 pickle (_codecs.encode trick) is a candidate with bytes', () => {
    // pickle.dumps(R(pickle.loads, (R(_codecs.encode, (inner.decode('latin1'), 'latin1')),)), protocol=2)
    const outer = hex('8002637069636b6c650a6c6f6164730a7100635f636f646563730a656e636f64650a71015829000000c2800263706f7369780a73797374656d0a710058070000006563686f2068697101c28571025271032e710258060000006c6174696e3171038671045271058571065271072e');
    const r = scan(outer);
    clean(r);
    assert.deepEqual(names(r), ['_codecs.encode', 'pickle.loads']);
    assert.equal(r.nested.length, 1);
    const c = r.nested[0];
    assert.ok(c.bytes, 'candidate carries re-encoded bytes');
    assert.deepEqual(new Uint8Array(c.bytes), inner);
    assert.equal(c.length, inner.length);
    assert.ok(c.offset >= 36 && c.offset < 36 + 5 + 41, `offset ${c.offset} points at the str constant`);
    const innerScan = scan(c.bytes);
    clean(innerScan);
    imp(innerScan, 'posix', 'system');
    // the call of pickle.loads takes the result of _codecs.encode: args render the inner call
    assert.ok(imp(r, 'pickle', 'loads').args?.includes('_codecs.encode'));
  });

  it('the same trick with a protocol-0 UNICODE constant', () => {
    // UNICODE is raw-unicode-escape: \u0080 spells the PROTO byte
    const innerText = cat(proto(2), glob('posix', 'system'), OP.NONE, OP.TUPLE1, OP.REDUCE, OP.STOP);
    const escaped = Array.from(innerText, (b) => (b >= 0x80 || b === 0x0a || b === 0x5c ? `\\u${b.toString(16).padStart(4, '0')}` : String.fromCharCode(b))).join('');
    const r = scan(cat(glob('_codecs', 'encode'), OP.MARK, OP.UNICODE, escaped, '\n', uni('latin1'), OP.TUPLE, OP.REDUCE, OP.STOP));
    clean(r);
    assert.equal(r.nested.length, 1);
    assert.deepEqual(new Uint8Array(r.nested[0].bytes!), innerText);
  });
});

describe('nested pickle candidates: ways a loader accepts bytes the heuristic misses', () => {
  const inner = reduceP2('posix', 'system', 'echo hi');
  const outerLoads = (payload: Uint8Array) => cat(proto(3), glob('pickle', 'loads'), binbytes(payload), OP.TUPLE1, OP.REDUCE, OP.STOP);
  const payloadAt = 2 + glob('pickle', 'loads').length + 5;

  it('_codecs.encode trick with a str constant longer than 4096 bytes', () => {
    // the same trick as above, but the inner pickle carries a 6000-character argument
    const big = reduceP2('posix', 'system', 'x'.repeat(6000));
    const asText = Array.from(big, (b) => String.fromCharCode(b)).join('');
    const r = scan(cat(proto(2), glob('pickle', 'loads'), glob('_codecs', 'encode'), bu(asText), bu('latin1'), OP.TUPLE2, OP.REDUCE, OP.TUPLE1, OP.REDUCE, OP.STOP));
    clean(r);
    assert.equal(r.nested.length, 1, 'a long latin-1 str holding a pickle is a candidate too (short ones are)');
    assert.deepEqual(new Uint8Array(r.nested[0].bytes!), big);
  });

  it('pickle.loads ignores bytes after STOP: inner pickle + 1 junk byte', () => {
    const r = scan(outerLoads(cat(inner, 'X')));
    clean(r);
    assert.equal(r.nested.length, 1, 'trailing bytes after the inner STOP must not hide the candidate');
    assert.equal(r.nested[0].offset, payloadAt);
  });

  it('inner pickle starting with PROTO 0 or PROTO 1 (both accepted by CPython)', () => {
    for (const v of [0, 1]) {
      const r = scan(outerLoads(cat(proto(v), glob('posix', 'system'), bu('echo hi'), OP.TUPLE1, OP.REDUCE, OP.STOP)));
      clean(r);
      assert.equal(r.nested.length, 1, `PROTO ${v} inner pickle`);
    }
  });
});

describe('joblib raw array blocks', () => {
  /** A NumpyArrayWrapper of shape (n,) and dtype spec (e.g. 'f8'), built as joblib 1.2 pickles it. */
  function wrapper(n: number, spec: string, align = true): Uint8Array {
    return cat(
      sglob('joblib.numpy_pickle', 'NumpyArrayWrapper'), OP.EMPTY_TUPLE, OP.NEWOBJ,
      OP.EMPTY_DICT, OP.MARK,
      sbu('subclass'), sglob('numpy', 'ndarray'),
      sbu('shape'), OP.BININT1, n, OP.TUPLE1,
      sbu('order'), sbu('C'),
      sbu('dtype'), sglob('numpy', 'dtype'), sbu(spec), OP.NEWFALSE, OP.NEWTRUE, OP.TUPLE3, OP.REDUCE,
      OP.MARK, OP.BININT1, 3, sbu(spec === 'O8' ? '|' : '<'), OP.NONE, OP.NONE, OP.NONE, OP.BININT, i32(-1), OP.BININT, i32(-1), OP.BININT1, spec === 'O8' ? 63 : 0, OP.TUPLE, OP.BUILD,
      sbu('allow_mmap'), OP.NEWTRUE,
      align ? cat(sbu('numpy_array_alignment_bytes'), OP.BININT1, 16) : new Uint8Array(0),
      OP.SETITEMS, OP.BUILD,
    );
  }
  // 24 raw bytes that would be an import if the walker read them as opcodes
  const raw = cat(glob('evil', 'hidden'), repeat(Uint8Array.of(OP.NONE), 24 - glob('evil', 'hidden').length));

  it('hand-assembled f8 array of shape (3,) with alignment: padding and data are skipped, the GLOBAL after is found', () => {
    const head = cat(proto(4), OP.EMPTY_LIST, OP.MARK, wrapper(3, 'f8'));
    const pad = 15 - (head.length % 16); // pad byte + pad bytes end on a 16-byte boundary
    const afterAt = head.length + 1 + pad + 24;
    const bytes = cat(head, pad, repeat(Uint8Array.of(0xff), pad), raw, glob('posix', 'system'), OP.APPENDS, OP.STOP);
    const r = scan(bytes);
    clean(r);
    assert.equal(r.joblibArrays, 1);
    assert.equal(imp(r, 'posix', 'system').offset, afterAt);
    assert.ok(!names(r).includes('evil.hidden'), 'raw array bytes must not be walked as opcodes');
    assert.deepEqual(names(r), ['joblib.numpy_pickle.NumpyArrayWrapper', 'numpy.dtype', 'numpy.ndarray', 'posix.system']);
  });

  it('without numpy_array_alignment_bytes (older joblib) there is no padding byte', () => {
    const bytes = cat(proto(4), OP.EMPTY_LIST, OP.MARK, wrapper(3, 'f8', false), raw, glob('posix', 'system'), OP.APPENDS, OP.STOP);
    const r = scan(bytes);
    clean(r);
    assert.equal(r.joblibArrays, 1);
    imp(r, 'posix', 'system');
    assert.ok(!names(r).includes('evil.hidden'));
  });

  it('joblib: false does not skip the raw block', () => {
    const head = cat(proto(4), OP.EMPTY_LIST, OP.MARK, wrapper(3, 'f8', false));
    const r = scan(cat(head, raw, glob('posix', 'system'), OP.APPENDS, OP.STOP), { joblib: false });
    assert.equal(r.joblibArrays, 0);
    assert.ok(names(r).includes('evil.hidden'));
  });

  it('a real joblib 1.2 dump of [np.array([1., 2., 3.]), os.system]: the import after the array is found', () => {
    const r = scan(hex('800495ce000000000000005d94288c136a6f626c69622e6e756d70795f7069636b6c65948c114e756d70794172726179577261707065729493942981947d94288c08737562636c617373948c056e756d7079948c076e6461727261799493948c057368617065944b0385948c056f72646572948c0143948c056474797065946807680e93948c02663894898887945294284b038c013c944e4e4e4affffffff4affffffff4b007494628c0a616c6c6f775f6d6d617094888c1b6e756d70795f61727261795f616c69676e6d656e745f6279746573944b10756206ffffffffffff000000000000f03f000000000000004000000000000008409515000000000000008c05706f736978948c0673797374656d949394652e'));
    clean(r);
    assert.equal(r.joblibArrays, 1);
    assert.deepEqual(r.frameViolations, []);
    assert.equal(imp(r, 'posix', 'system').opcode, 'STACK_GLOBAL');
  });

  it('a real joblib 1.2 dump of [object array holding os.system, "tail", os.getcwd]: the in-stream pickle is followed', () => {
    const r = scan(hex('800495ce000000000000005d94288c136a6f626c69622e6e756d70795f7069636b6c65948c114e756d70794172726179577261707065729493942981947d94288c08737562636c617373948c056e756d7079948c076e6461727261799493948c057368617065944b0285948c056f72646572948c0143948c056474797065946807680e93948c024f3894898887945294284b038c017c944e4e4e4affffffff4affffffff4b3f7494628c0a616c6c6f775f6d6d617094898c1b6e756d70795f61727261795f616c69676e6d656e745f6279746573944b1075628002636e756d70792e636f72652e6d756c746961727261790a5f7265636f6e7374727563740a7100636e756d70790a6e6461727261790a71014b00857102635f636f646563730a656e636f64650a7103580100000062710458060000006c6174696e317105867106527107877108527109284b014b0285710a636e756d70790a64747970650a710b58020000004f38710c898887710d52710e284b0358010000007c710f4e4e4e4affffffff4affffffff4b3f74711062895d71112863706f7369780a73797374656d0a71124b0165747113622e951c000000000000008c047461696c948c05706f736978948c06676574637764949394652e'));
    clean(r);
    assert.equal(r.joblibArrays, 1);
    // inside the object array's own protocol-2 pickle
    assert.equal(imp(r, 'posix', 'system').opcode, 'GLOBAL');
    imp(r, 'numpy.core.multiarray', '_reconstruct');
    // after it, back in the outer stream
    assert.equal(imp(r, 'posix', 'getcwd').opcode, 'STACK_GLOBAL');
  });

  it('hand-assembled object-dtype wrapper followed by a nested pickle in-stream', () => {
    const nested = reduceP2('os', 'system', 'echo hi');
    const bytes = cat(proto(4), OP.EMPTY_LIST, OP.MARK, wrapper(2, 'O8'), nested, glob('posix', 'getcwd'), OP.APPENDS, OP.STOP);
    const r = scan(bytes);
    clean(r);
    assert.equal(r.joblibArrays, 1);
    assert.equal(imp(r, 'os', 'system').args, '("echo hi",)');
    imp(r, 'posix', 'getcwd');
  });

  it('a wrapper whose shape cannot be read is an error, not a silent mis-walk', () => {
    const bad = cat(
      proto(4), sglob('joblib.numpy_pickle', 'NumpyArrayWrapper'), OP.EMPTY_TUPLE, OP.NEWOBJ,
      OP.EMPTY_DICT, sbu('shape'), sbu('nope'), OP.SETITEM, OP.BUILD, OP.STOP,
    );
    const r = scan(bad);
    assert.ok(r.error instanceof FormatError);
  });
});

// ---- files made by real libraries and the opcode-trick corpus -------------------------------------

function* walk(dir: string): Generator<string> {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) yield* walk(p);
    else yield p;
  }
}

describe('real files (benign, made by real libraries)', () => {
  const real = join(FIXTURES, 'real');
  const files = [...walk(real)].filter((p) => p.endsWith('.pkl') || p.endsWith('.joblib')).sort();
  it('there are fixtures to scan', () => assert.ok(files.filter((f) => f.endsWith('.pkl')).length >= 6));
  for (const f of files) {
    it(f.slice(real.length + 1), () => {
      const src = new FileSource(f);
      try {
        const r = scanPickle(src);
        clean(r);
        assert.equal(r.endOffset, src.size);
        assert.deepEqual(r.frameViolations, []);
        if (f.endsWith('.joblib')) assert.ok(r.joblibArrays > 0);
      } finally {
        src.close();
      }
    });
  }
  it('legacy torch.save format: 5 stacked pickles then raw storages', () => {
    const r = scanPickle(new BufferSource(new Uint8Array(readFileSync(join(real, 'legacy_state_dict.pt')))), { pickles: 5 });
    clean(r, 5);
    assert.ok(names(r).includes('torch._utils._rebuild_tensor_v2'));
  });
});

describe('opcode-trick corpus', () => {
  const dir = join(FIXTURES, 'corpus/opcode');
  const load = (name: string) => scanPickle(new BufferSource(new Uint8Array(readFileSync(join(dir, name)))));
  const expectations: Record<string, (r: PickleScanResult) => void> = {
    'broken_tail.pkl': (r) => {
      assert.ok(r.error instanceof FormatError);
      const i = r.imports.find((x) => (x.module === 'os' || x.module === 'posix') && x.name === 'system');
      assert.ok(i);
      assert.equal(i.calls, 1);
    },
    'compat_commands_p0.pkl': (r) => { clean(r); assert.equal(imp(r, 'commands', 'getstatusoutput').calls, 1); },
    'dotted_exec_call.pkl': (r) => { clean(r); assert.equal(imp(r, 'builtins', 'exec.__call__').calls, 1); },
    'dotted_via_safe_module_fnmatch.pkl': (r) => { clean(r); assert.equal(imp(r, 'fnmatch', 'os.system').calls, 1); },
    'ext1_unregistered.pkl': (r) => {
      clean(r);
      assert.equal(r.imports.length, 1);
      assert.equal(r.imports[0].extCode, 42);
      assert.equal(r.imports[0].opcode, 'EXT1');
      assert.equal(r.imports[0].calls, 1);
    },
    'frame_divergence.pkl': (r) => { clean(r); assert.ok(r.frameViolations.length > 0); assert.equal(imp(r, 'posix', 'system').calls, 1); },
    'inst_subprocess_p0.pkl': (r) => { clean(r); const i = imp(r, 'subprocess', 'getoutput'); assert.equal(i.opcode, 'INST'); assert.equal(i.calls, 1); },
    'memo_binput.pkl': (r) => { clean(r); assert.deepEqual(names(r), ['posix.system']); assert.equal(r.imports[0].calls, 1); },
    'nested_pickle_loads.pkl': (r) => {
      clean(r);
      imp(r, 'pickle', 'loads');
      assert.equal(r.nested.length, 1);
      const bytes = new Uint8Array(readFileSync(join(dir, 'nested_pickle_loads.pkl')));
      const inner = scan(bytes.subarray(r.nested[0].offset, r.nested[0].offset + r.nested[0].length));
      clean(inner);
      imp(inner, 'posix', 'system');
    },
    'obj_exec.pkl': (r) => { clean(r); assert.equal(imp(r, 'builtins', 'exec').calls, 1); },
    'stack_global_binstring.pkl': (r) => { clean(r); assert.equal(imp(r, 'subprocess', 'getoutput').calls, 1); },
    'submodule_asyncio_subprocess.pkl': (r) => {
      clean(r);
      imp(r, 'asyncio.subprocess', 'create_subprocess_exec');
      imp(r, 'asyncio', 'run');
    },
    'vars_dict_get.pkl': (r) => {
      clean(r);
      assert.deepEqual(names(r), ['builtins.__import__', 'builtins.dict.get', 'builtins.vars']);
      assert.ok(r.callsOfCalls.length >= 1);
      assert.ok(r.callsOfCalls.some((c) => c.inner?.name === 'dict.get'));
    },
  };
  const files = readdirSync(dir).filter((f) => f.endsWith('.pkl')).sort();
  it('every corpus sample has an expectation', () => assert.deepEqual(files, Object.keys(expectations).sort()));
  for (const f of files) {
    it(f, () => {
      const check = expectations[f];
      assert.ok(check, `no expectation for ${f}`);
      check(load(f));
    });
  }
});
