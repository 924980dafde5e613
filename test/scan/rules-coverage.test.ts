// Every rule of the catalogue is reachable: for each one, an input that must produce it. Rules reached
// by the corpus are checked there; the rest are built here byte by byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferSource } from '../../src/formats/source.ts';
import { scanSource } from '../../src/scan/walker.ts';
import { RULES } from '../../src/scan/rules/index.ts';
import { scanOne, FIXTURES } from '../helpers/scan.ts';
import { OP, cat, glob, proto, sbu, sglob, binbytes, u64 } from '../helpers/pickle-bytes.ts';
import { storedZip, ustar } from '../helpers/archives.ts';

const EMPTY_DICT_PICKLE = cat(proto(2), OP.EMPTY_DICT, OP.STOP);

async function rulesOf(bytes: Uint8Array, name: string): Promise<Set<string>> {
  const rows = await scanSource(new BufferSource(bytes), name, { hash: false });
  return new Set(rows.flatMap((r) => r.findings.map((f) => f.ruleId)));
}

function safetensors(header: object, data = new Uint8Array(0)): Uint8Array {
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  return cat(u64(json.length), json, data);
}

const CRAFTED: Record<string, () => Promise<Set<string>>> = {
  'MG-PKL-004': () => rulesOf(cat(proto(4), OP.BINGET, 7, sbu('system'), OP.STACK_GLOBAL, OP.STOP), 'x.pkl'),
  'MG-PKL-010': () => rulesOf(cat(EMPTY_DICT_PICKLE, 0xff, 0xfe, 0xfd), 'x.pkl'),
  'MG-ARC-001': () => rulesOf(ustar([['../../etc/cron.d/job', '* * * * * root id\n']]), 'x.tar'),
  'MG-PT-002': () =>
    rulesOf(
      storedZip([
        ['m/data.pkl', EMPTY_DICT_PICKLE],
        ['m/constants.pkl', cat(proto(2), OP.EMPTY_TUPLE, OP.STOP)],
        ['m/code/__torch__.py', 'def forward(self):\n  torch.ops.load_library("/tmp/evil.so")\n'],
      ]),
      'x.pt',
    ),
  'MG-PT-003': () => rulesOf(storedZip([['a/data.pkl', EMPTY_DICT_PICKLE], ['b/data.pkl', EMPTY_DICT_PICKLE]]), 'x.pt'),
  // A NumpyArrayWrapper whose dtype is not a numpy.dtype: the raw bytes after it cannot be skipped.
  'MG-JBL-001': () =>
    rulesOf(
      cat(proto(2), glob('joblib.numpy_pickle', 'NumpyArrayWrapper'), OP.EMPTY_TUPLE, OP.NEWOBJ, OP.EMPTY_DICT,
        sbu('shape'), OP.BININT1, 3, OP.TUPLE1, OP.SETITEM, sbu('dtype'), sbu('weird'), OP.SETITEM, OP.BUILD, binbytes(new Uint8Array(12)), OP.STOP),
      'x.joblib',
    ),
  'MG-ST-002': () => rulesOf(safetensors({ __metadata__: { epochs: 3 }, w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)), 'x.safetensors'),
};

test('every rule is covered by the corpus or a crafted input here', async () => {
  // Every fixture folder of the repo (corpus, real-library files, hostile inputs, per-format fixtures).
  const all = await scanOne(FIXTURES);
  const seen = new Set(all.report.files.flatMap((f) => f.findings.map((x) => x.ruleId)));
  for (const r of RULES) assert.ok(seen.has(r.id) || r.id in CRAFTED, `${r.id} is reached by no test input`);
});

for (const [id, make] of Object.entries(CRAFTED)) {
  test(`crafted input produces ${id}`, async () => {
    const rules = await make();
    assert.ok(rules.has(id), `got ${[...rules].join(', ')}`);
  });
}

test('a STACK_GLOBAL fed by a memo slot that was written resolves (no MG-PKL-004)', async () => {
  const rules = await rulesOf(cat(proto(4), sbu('collections'), OP.MEMOIZE, OP.POP, OP.BINGET, 0, sbu('OrderedDict'), OP.STACK_GLOBAL, OP.EMPTY_TUPLE, OP.REDUCE, OP.STOP), 'x.pkl');
  assert.ok(!rules.has('MG-PKL-004'));
  assert.ok(rules.has('MG-PKL-011'));
  void sglob;
});
