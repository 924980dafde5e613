// Credentials inside pickles: string constants are checked for provider keys, and call arguments shown
// as evidence are masked. No full secret may appear anywhere in the report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferSource } from '../../src/formats/source.ts';
import { scanSource } from '../../src/scan/walker.ts';
import { buildReport } from '../../src/scan/scan.ts';
import { toSarif } from '../../src/scan/render.ts';
import { OP, cat, proto, sbu, glob, bu } from '../helpers/pickle-bytes.ts';

const TOKEN = 'hf_' + 'Zq8Wm2Lk5Tn7Vb4Xc1Rd6Yf9Gh3Js0Pa2U'; // fake, well-formed
const AWS = 'AKIA' + 'QX7Z2M5N8B4V6C1D';

test('a token stored in a pickled dict is reported masked', async () => {
  const bytes = cat(proto(4), OP.EMPTY_DICT, OP.MARK, sbu('hub_token'), sbu(TOKEN), sbu('aws'), sbu(AWS), OP.SETITEMS, OP.STOP);
  const rows = await scanSource(new BufferSource(bytes), 'cfg.pkl', { hash: false });
  const kinds = rows.flatMap((r) => r.findings.filter((f) => f.ruleId === 'MG-SEC-001').map((f) => f.evidence.kind));
  assert.deepEqual(kinds.sort(), ['aws-access-key-id', 'huggingface-token'].sort());
  const json = JSON.stringify(buildReport(rows)) + JSON.stringify(toSarif(buildReport(rows)));
  assert.ok(!json.includes(TOKEN) && !json.includes(AWS), 'a full secret leaked into the report');
});

test('call arguments shown as evidence are masked', async () => {
  const bytes = cat(proto(2), glob('posix', 'system'), bu(`curl -H "Authorization: Bearer ${TOKEN}" http://x`), OP.TUPLE1, OP.REDUCE, OP.STOP);
  const rows = await scanSource(new BufferSource(bytes), 'x.pkl', { hash: false });
  const hit = rows[0].findings.find((f) => f.ruleId === 'MG-PKL-001');
  assert.ok(hit);
  assert.match(hit.message, /Bearer hf_Z…2U/);
  assert.ok(!JSON.stringify(rows).includes(TOKEN));
});

test('ordinary long strings are not secrets', async () => {
  const bytes = cat(proto(4), OP.EMPTY_LIST, OP.MARK, sbu('the quick brown fox jumps over the lazy dog'), sbu('transformer.h.0.attn.c_attn.weight_with_long_name'), OP.APPENDS, OP.STOP);
  const rows = await scanSource(new BufferSource(bytes), 'x.pkl', { hash: false });
  assert.deepEqual(rows[0].findings.filter((f) => f.ruleId.startsWith('MG-SEC')), []);
});
