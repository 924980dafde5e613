// Tests of the pickle import policy (src/scan/pickle-policy.ts): allowlist-first judgement on every name
// CPython's find_class could resolve a (module, name) to — research/scanners.md §B.1 and §C.1/C.2.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROFILES, isCriticalCategory, isDataTypeFactory, judgeImport, type DenyCategory, type ImportVerdict } from '../../src/scan/pickle-policy.ts';

const CATEGORIES: DenyCategory[] = ['exec', 'process', 'loader', 'import', 'file', 'network', 'indirection', 'introspection', 'evasion', 'traversal'];
const CRITICAL = new Set<DenyCategory>(['exec', 'process', 'import', 'loader', 'evasion']);

function split(ref: string): [string, string] {
  const i = ref.indexOf(':');
  if (i >= 0) return [ref.slice(0, i), ref.slice(i + 1)];
  const j = ref.lastIndexOf('.');
  return [ref.slice(0, j), ref.slice(j + 1)];
}
const show = (v: ImportVerdict) => JSON.stringify(v);

function denied(module: string, name: string): Extract<ImportVerdict, { kind: 'denied' }> {
  const v = judgeImport(module, name);
  assert.equal(v.kind, 'denied', `${module} · ${name}: ${show(v)}`);
  return v as Extract<ImportVerdict, { kind: 'denied' }>;
}

describe('isCriticalCategory', () => {
  it('exec, process, import, loader and evasion are critical; the rest are not', () => {
    for (const c of CATEGORIES) assert.equal(isCriticalCategory(c), CRITICAL.has(c), c);
  });
});

describe('allowed: what real frameworks pickle', () => {
  // 'module:name' where the name itself could contain dots; otherwise split at the last dot
  const allowed = [
    'collections.OrderedDict',
    'torch._utils._rebuild_tensor_v2',
    'torch.FloatStorage',
    'torch.nn.modules.linear.Linear',
    'numpy.core.multiarray._reconstruct',
    'numpy.dtype',
    'sklearn.linear_model._logistic.LogisticRegression',
    'sklearn.tree._tree.Tree',
    'joblib.numpy_pickle.NumpyArrayWrapper',
    'builtins.set',
    '__builtin__.set',
    'copy_reg._reconstructor',
    '_codecs.encode',
    'torch.jit._pickle.build_intlist',
  ];
  for (const ref of allowed) {
    it(ref, () => {
      const [m, n] = split(ref);
      const v = judgeImport(m, n);
      assert.equal(v.kind, 'allowed', show(v));
    });
  }
  it('profiles are named', () => {
    const v = judgeImport('torch._utils', '_rebuild_tensor_v2');
    assert.ok(v.kind === 'allowed' && v.profile === 'pytorch', show(v));
    const w = judgeImport('sklearn.tree._tree', 'Tree');
    assert.ok(w.kind === 'allowed' && w.profile === 'scikit-learn', show(w));
  });
});

describe('allowlist consistency', () => {
  it('torch.serialization._get_layout (written by torch.save of every sparse tensor) is allowed', () => {
    // torch 1.13: torch.save(torch.sparse_coo_tensor(...)) pickles GLOBAL 'torch.serialization _get_layout'
    // (the pytorch profile lists it; torch's own weights_only unpickler allows it)
    const v = judgeImport('torch.serialization', '_get_layout');
    assert.equal(v.kind, 'allowed', show(v));
  });
  it('every exact entry of every allowlist profile is judged allowed', () => {
    const notAllowed: string[] = [];
    for (const p of PROFILES) {
      for (const [m, ns] of Object.entries(p.exact)) for (const n of ns) {
        const v = judgeImport(m, n);
        if (v.kind !== 'allowed') notAllowed.push(`${p.id}: ${m}.${n} → ${show(v)}`);
      }
    }
    assert.deepEqual(notAllowed, []);
  });
  it('a denied name re-exported by an allowlisted framework module is not allowed', () => {
    // scikit-learn 1.2.1: sklearn.utils._joblib does `from joblib import Parallel, Memory, ...`, so these
    // resolve to joblib.parallel.Parallel / joblib.memory.Memory, which the deny list names (joblib: Parallel, Memory)
    for (const n of ['Parallel', 'Memory']) {
      const v = judgeImport('sklearn.utils._joblib', n);
      assert.notEqual(v.kind, 'allowed', `sklearn.utils._joblib.${n}: ${show(v)}`);
    }
  });
});

describe('denied, critical', () => {
  const cases: Array<[string, DenyCategory | DenyCategory[]]> = [
    ['os.system', 'process'],
    ['posix.system', 'process'],
    ['nt.system', 'process'],
    ['subprocess.Popen', 'process'],
    ['builtins.eval', 'exec'],
    ['__builtin__.eval', 'exec'],
    ['builtins.exec', 'exec'],
    ['builtins.__import__', 'import'],
    ['commands.getoutput', 'process'],
    ['cPickle.loads', 'loader'],
    ['pickle.loads', 'loader'],
    ['_pickle.loads', 'loader'],
    ['torch.load', 'loader'],
    ['torch.hub.load', 'loader'],
    ['marshal.loads', 'loader'],
    ['runpy._run_code', 'exec'],
    ['asyncio.unix_events._UnixSubprocessTransport', 'process'],
    ['pip.main', 'process'],
    ['pty.spawn', 'process'],
    ['numpy.testing._private.utils.runstring', 'exec'],
    ['code:InteractiveInterpreter.runcode', 'exec'],
    ['fickling.hook.deactivate_safe_ml_environment', 'evasion'],
    ['dill._dill._create_code', 'exec'],
    ['cloudpickle.cloudpickle._make_function', 'exec'],
  ];
  for (const [ref, cat] of cases) {
    it(ref, () => {
      const [m, n] = split(ref);
      const v = denied(m, n);
      assert.ok(isCriticalCategory(v.category), `${ref}: ${show(v)} is not critical`);
      const want = Array.isArray(cat) ? cat : [cat];
      assert.ok(want.includes(v.category), `${ref}: expected ${want.join('|')}, got ${show(v)}`);
      assert.ok(v.matched.length > 0 && v.reason.length > 0);
    });
  }
  it('Python-2 names are judged by what _compat_pickle maps them to', () => {
    // neither spelling is on a list; only the mapped name is
    assert.equal(denied('__builtin__', 'execfile').category, 'exec'); // → builtins.exec
    assert.equal(denied('__builtin__', 'reduce').category, 'indirection'); // → functools.reduce
    assert.equal(denied('__builtin__', 'raw_input').category, 'exec'); // → builtins.input
  });
});

describe('dotted-name tricks (protocol >= 4 find_class walks attributes)', () => {
  const cases: Array<[string, string]> = [
    ['builtins', 'eval.__call__'],
    ['builtins', 'object.__getattribute__'],
    ['pathlib', 'os.system'],
    ['fnmatch', 'os.system'],
    ['numpy', '__builtins__'],
    ['builtins', 'exec.__call__'],
    ['collections', 'OrderedDict.__init__.__globals__'],
  ];
  for (const [m, n] of cases) {
    it(`${m} · ${n} is denied`, () => {
      denied(m, n);
    });
  }
  it('builtins · eval.__call__ is graded exec; pathlib · os.system is graded process', () => {
    assert.equal(denied('builtins', 'eval.__call__').category, 'exec');
    assert.equal(denied('pathlib', 'os.system').category, 'process');
    assert.equal(denied('fnmatch', 'os.system').category, 'process');
  });
  it('any dotted name is at least indirection, even below an allowlisted class', () => {
    for (const [m, n] of [['collections', 'OrderedDict.fromkeys'], ['torch', 'FloatStorage.from_buffer'], ['mypackage', 'Thing.make'], ['numpy', 'dtype.newbyteorder']]) {
      const v = denied(m, n);
      // 'introspection' is the only grade below 'indirection'
      assert.notEqual(v.category, 'introspection', `${m} · ${n}: ${show(v)}`);
    }
  });
});

describe('denied, not critical', () => {
  const cases: Array<[string, DenyCategory[], boolean]> = [
    ['builtins.getattr', ['indirection'], false],
    ['functools.partial', ['indirection'], false],
    ['operator.attrgetter', ['indirection'], false],
    ['_operator.attrgetter', ['indirection'], false],
    ['shutil.rmtree', ['file'], false],
    ['socket.socket', ['network'], false],
    ['webbrowser.open', ['network', 'process'], true],
  ];
  for (const [ref, cats, mayBeCritical] of cases) {
    it(ref, () => {
      const [m, n] = split(ref);
      const v = denied(m, n);
      assert.ok(cats.includes(v.category), `${ref}: expected ${cats.join('|')}, got ${show(v)}`);
      if (!mayBeCritical) assert.equal(isCriticalCategory(v.category), false, `${ref} graded critical: ${show(v)}`);
    });
  }
});

describe('unknown: on no list', () => {
  for (const ref of ['mypackage.MyClass', '__main__.Net', 'transformers.models.bert.modeling_bert.BertModel']) {
    it(ref, () => {
      const [m, n] = split(ref);
      const v = judgeImport(m, n);
      assert.equal(v.kind, 'unknown', show(v));
    });
  }
});

describe('isDataTypeFactory', () => {
  it('dill._dill._load_type of a data type is a harmless factory', () => {
    assert.equal(isDataTypeFactory('dill._dill', '_load_type', ['("bytes",)']), true);
    assert.equal(isDataTypeFactory('dill.dill', '_load_type', ['("set",)', '("dict",)']), true);
  });
  it('code and function types are not', () => {
    assert.equal(isDataTypeFactory('dill._dill', '_load_type', ['("CodeType",)']), false);
    assert.equal(isDataTypeFactory('dill._dill', '_load_type', ['("FunctionType",)']), false);
    assert.equal(isDataTypeFactory('dill._dill', '_load_type', ['("bytes",)', '("CodeType",)']), false);
  });
  it('no arguments, other functions and look-alike modules are not', () => {
    assert.equal(isDataTypeFactory('dill._dill', '_load_type', []), false);
    assert.equal(isDataTypeFactory('dill._dill', '_create_code', ['("bytes",)']), false);
    assert.equal(isDataTypeFactory('evil.dill._dill', '_load_type', ['("bytes",)']), false);
    assert.equal(isDataTypeFactory('dill._dill', '_load_type', ['(x,)']), false);
  });
});
