// Allowlist-first judgement of what a pickle imports. A reference is judged on every name the loader
// could resolve it to (compat mapping, private aliases, dotted attribute paths, parent modules). The deny
// list only grades how bad a non-allowlisted import is; an import on no list is still reported.
import { candidateNames } from '../formats/pickle/index.ts';

export type ImportVerdict =
  | { kind: 'allowed'; profile: string }
  | { kind: 'denied'; category: DenyCategory; matched: string; reason: string }
  | { kind: 'unknown'; reason: string };

export type DenyCategory = 'exec' | 'process' | 'loader' | 'import' | 'file' | 'network' | 'indirection' | 'introspection' | 'evasion' | 'traversal';

// ---- deny list (merged from picklescan, modelscan, modelaudit and fickling; see research §B.2) ----

type DenyTable = Record<string, { cat: DenyCategory; names: '*' | string[] }>;

const deny = (cat: DenyCategory, modules: string[]): DenyTable =>
  Object.fromEntries(modules.map((m) => [m, { cat, names: '*' as const }]));

const DENY: DenyTable = {
  ...deny('process', ['os', 'subprocess', 'pty', 'pexpect', 'commands', 'popen2', 'platform', 'multiprocessing', 'concurrent.futures', 'asyncio', 'signal', 'webbrowser', 'sh', 'plumbum', 'ensurepip', 'venv', 'pip', 'setuptools', 'distutils', '_osx_support', '_aix_support', 'imaplib', 'pipes']),
  ...deny('exec', ['code', 'codeop', 'runpy', 'timeit', 'cProfile', 'profile', 'pdb', 'bdb', 'trace', 'doctest', 'idlelib', 'lib2to3', 'pydoc', 'test', 'unittest', 'compileall', 'py_compile', 'types', 'ctypes', 'cffi', 'numpy.f2py', 'numpy.distutils', 'numpy.testing', 'torch._dynamo', 'torch._inductor', 'torch.jit', 'torch.utils.bottleneck', 'torch.utils.collect_env', 'torch.fx.experimental.symbolic_shapes', 'torch.utils.data.datapipes.utils.decoder', 'torch.distributed', 'torch.utils._config_module', 'torch.package', '_pyrepl', 'IPython', 'jinja2', 'mako', '_interpreters', '_xxsubinterpreters', 'interpreters']),
  ...deny('loader', ['pickle', 'cPickle', '_pickle', 'marshal', 'shelve', 'torch.hub', 'torch.serialization', 'zipimport', 'pickletools', 'copyreg.__newobj_ex__', 'yaml', 'jsonpickle', 'numpy.lib.npyio', 'numpy.lib.format', 'keras.models', 'tensorflow.keras.models']),
  ...deny('import', ['importlib', 'imp', 'pkgutil', 'site', 'sys', 'builtins.__import__', '_frozen_importlib', '_frozen_importlib_external', '_imp', 'zipimport', 'modulefinder']),
  ...deny('file', ['shutil', 'tempfile', 'glob', 'fileinput', 'filecmp', 'mmap', 'tarfile', 'zipfile', 'linecache', 'logging', 'sqlite3', 'dbm', 'io', 'os.path', 'posixpath', 'ntpath']),
  ...deny('network', ['socket', 'ssl', 'http', 'httplib', 'urllib', 'urllib2', 'urllib3', 'requests', 'aiohttp', 'httpx', 'ftplib', 'smtplib', 'poplib', 'nntplib', 'telnetlib', 'xmlrpc', 'xmlrpclib', 'socketserver', 'SocketServer', 'select', 'selectors', 'asynchat', 'asyncore', 'paramiko', 'syslog', 'wsgiref']),
  ...deny('introspection', ['gc', 'inspect', 'atexit', 'faulthandler', 'tracemalloc', 'sysconfig', 'ctypes.util', 'difflib', 'weakref', 'abc', 'threading', '_thread']),
  // dill and cloudpickle ship functions as code objects: loading them runs the pickled function's code.
  ...deny('exec', ['dill', 'cloudpickle', 'srsly.cloudpickle', 'joblib.externals.cloudpickle']),
  ...deny('evasion', ['fickling', 'picklescan', 'modelscan', 'modelaudit', 'model_unpickler', 'saferpickle', 'modelgate']),
  'numpy.testing._private.utils': { cat: 'exec', names: '*' },
  uuid: { cat: 'process', names: ['_get_command_stdout', '_popen', '_find_mac', '_find_mac_near_keyword', '_ifconfig_getnode', '_ip_getnode', '_arp_getnode', '_lanscan_getnode', '_netstat_getnode', 'getnode'] },
  functools: { cat: 'indirection', names: ['partial', 'partialmethod', 'reduce', 'wraps', 'update_wrapper', 'singledispatch', 'cached_property', 'lru_cache'] },
  operator: { cat: 'indirection', names: ['attrgetter', 'itemgetter', 'methodcaller', 'getitem', 'setitem', 'delitem', 'call'] },
  codecs: { cat: 'file', names: ['open', 'EncodedFile', 'getreader', 'getwriter', 'lookup', 'StreamReaderWriter'] },
  base64: { cat: 'indirection', names: ['b64decode', 'b32decode', 'b16decode', 'a85decode', 'b85decode', 'decodebytes', 'decode'] },
  zlib: { cat: 'indirection', names: ['decompress', 'decompressobj'] },
  torch: { cat: 'loader', names: ['load', 'compile', 'hub', 'jit', 'package', 'ops'] },
  'torch.storage': { cat: 'loader', names: ['_load_from_bytes'] },
  numpy: { cat: 'loader', names: ['load', 'loadtxt', 'fromfile', 'genfromtxt', '__builtins__', 'testing', 'f2py', 'distutils', 'lib', 'ctypeslib'] },
  'keras.utils': { cat: 'network', names: ['get_file'] },
  joblib: { cat: 'loader', names: ['load', '_pickle_load', 'Parallel', 'delayed', 'Memory', 'register_compressor', 'parallel_backend'] },
  'joblib.numpy_pickle': { cat: 'loader', names: ['load', 'read_array', 'load_compatibility', 'NumpyUnpickler'] },
};

/** Builtins that build plain data; every other builtin (eval, getattr, __import__, vars, open, …) is denied. */
const SAFE_BUILTINS = new Set([
  'set', 'frozenset', 'dict', 'list', 'tuple', 'int', 'float', 'complex', 'str', 'bytes', 'bytearray', 'bool',
  'slice', 'range', 'object', 'NoneType', 'Ellipsis', 'NotImplemented', 'True', 'False', 'None',
  'ValueError', 'KeyError', 'IndexError', 'TypeError', 'RuntimeError', 'Exception', 'AttributeError', 'ArithmeticError',
]);
const EXEC_BUILTINS = new Set(['eval', 'exec', 'compile', 'execfile', '__import__', 'breakpoint', 'input', 'help', 'exit', 'quit', 'apply']);
const INDIRECT_BUILTINS = new Set(['getattr', 'setattr', 'delattr', 'vars', 'globals', 'locals', 'dir', '__build_class__', 'memoryview', 'classmethod', 'staticmethod', 'property', 'super', 'type', 'map', 'filter', 'iter', 'next', 'print', 'open', 'reversed', 'sorted', 'zip', 'enumerate', 'id', 'hash', 'callable', 'repr', 'format']);

/** Attribute names that reach interpreter internals from any object. */
const DANGEROUS_DUNDERS = new Set(['__builtins__', '__globals__', '__getattribute__', '__getattr__', '__subclasses__', '__init__', '__class__', '__dict__', '__reduce__', '__reduce_ex__', '__code__', '__closure__', '__import__', '__loader__', '__spec__', '__call__', '__base__', '__bases__', '__mro__', '__self__', '__func__', '__module__', '__setattr__', '__delattr__', '__getitem__', '__new__']);

// ---- allowlist profiles: what real frameworks write ----------------------------------------------

interface Profile {
  id: string;
  exact: Record<string, string[]>;
  /** Module prefixes whose public classes (CamelCase names) a framework pickles. */
  classPrefixes?: string[];
}

const TORCH_STORAGES = ['BFloat16Storage', 'BoolStorage', 'ByteStorage', 'CharStorage', 'ComplexDoubleStorage', 'ComplexFloatStorage', 'DoubleStorage', 'FloatStorage', 'HalfStorage', 'IntStorage', 'LongStorage', 'QInt32Storage', 'QInt8Storage', 'QUInt2x4Storage', 'QUInt4x2Storage', 'QUInt8Storage', 'ShortStorage', 'UntypedStorage', 'TypedStorage', 'Float8_e4m3fnStorage', 'Float8_e5m2Storage'];
const TORCH_DTYPES = ['float32', 'float', 'float64', 'double', 'float16', 'half', 'bfloat16', 'uint8', 'int8', 'int16', 'short', 'int32', 'int', 'int64', 'long', 'bool', 'complex64', 'complex128', 'cfloat', 'cdouble', 'quint8', 'qint8', 'qint32', 'quint4x2', 'quint2x4', 'float8_e4m3fn', 'float8_e5m2', 'uint16', 'uint32', 'uint64'];

export const PROFILES: Profile[] = [
  {
    id: 'python-data',
    exact: {
      builtins: [...SAFE_BUILTINS],
      collections: ['OrderedDict', 'defaultdict', 'deque', 'Counter', 'ChainMap'],
      copyreg: ['_reconstructor'],
      datetime: ['datetime', 'date', 'time', 'timedelta', 'timezone'],
      decimal: ['Decimal'],
      fractions: ['Fraction'],
      uuid: ['UUID'],
      enum: ['Enum', 'IntEnum'],
      re: ['_compile'],
      argparse: ['Namespace'],
      codecs: ['encode'],
      pathlib: ['PosixPath', 'WindowsPath', 'PurePosixPath', 'PureWindowsPath', 'Path'],
    },
  },
  {
    id: 'pytorch',
    exact: {
      torch: [...TORCH_STORAGES, ...TORCH_DTYPES, 'Size', 'device', 'dtype', 'Tensor', 'strided', 'sparse_coo', 'sparse_csr', 'contiguous_format', 'channels_last', 'channels_last_3d', 'preserve_format', 'per_tensor_affine', 'per_channel_affine', 'per_tensor_symmetric', 'per_channel_symmetric', 'per_channel_affine_float_qparams', 'memory_format', 'layout', 'qscheme', 'Generator'],
      'torch._utils': ['_rebuild_tensor', '_rebuild_tensor_v2', '_rebuild_tensor_v3', '_rebuild_parameter', '_rebuild_parameter_with_state', '_rebuild_qtensor', '_rebuild_sparse_tensor', '_rebuild_sparse_csr_tensor', '_rebuild_meta_tensor_no_storage', '_rebuild_nested_tensor', '_rebuild_device_tensor_from_numpy', '_rebuild_device_tensor_from_cpu_tensor', '_rebuild_wrapper_subclass', '_rebuild_xla_tensor', '_rebuild_mlc_tensor'],
      'torch._tensor': ['_rebuild_from_type', '_rebuild_from_type_v2'],
      'torch.nn.parameter': ['Parameter', 'UninitializedParameter', 'Buffer'],
      'torch.serialization': ['_get_layout'],
      'torch.storage': ['UntypedStorage', 'TypedStorage', '_TypedStorage'],
      'torch.utils.hooks': ['_remove_from_state_dict_hooks'],
      'torch.torch_version': ['TorchVersion'],
      'torch.optim.optimizer': ['_RequiredParameter', 'required'],
      'torch.nn.modules.module': ['_IncompatibleKeys'],
    },
    classPrefixes: ['torch.nn.modules.', 'torch.optim.', 'torch.nn.utils.parametrize', 'torch.ao.nn.', 'torch.nn.quantized.', 'torch.distributions.'],
  },
  {
    // TorchScript archives are read by torch.jit's own unpickler, which only resolves these.
    id: 'torchscript',
    exact: {
      'torch.jit._pickle': ['build_intlist', 'build_tensorlist', 'build_doublelist', 'build_boollist', 'build_tensor_from_id', 'restore_type_tag', 'build_complexlist'],
    },
    classPrefixes: ['__torch__.'],
  },
  {
    id: 'numpy',
    exact: {
      numpy: ['ndarray', 'dtype', 'matrix', 'bool_', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'float16', 'float32', 'float64', 'complex64', 'complex128', 'longdouble', 'str_', 'bytes_', 'void', 'datetime64', 'timedelta64', 'object_', 'generic', 'number', 'integer', 'floating', 'intc', 'uintc', 'int_', 'float_', 'core', '_core'],
      'numpy.core.multiarray': ['_reconstruct', 'scalar', '_frombuffer'],
      'numpy._core.multiarray': ['_reconstruct', 'scalar', '_frombuffer'],
      'numpy.core.numeric': ['_frombuffer'],
      'numpy._core.numeric': ['_frombuffer'],
      'numpy.ma.core': ['_mareconstruct', 'MaskedArray', 'MaskedConstant'],
      'numpy.random._pickle': ['__randomstate_ctor', '__generator_ctor', '__bit_generator_ctor'],
      'numpy.random.mtrand': ['RandomState'],
      'numpy.random._generator': ['Generator'],
      'numpy.random._mt19937': ['MT19937'],
      'numpy.random._pcg64': ['PCG64', 'PCG64DXSM'],
      'numpy.random._philox': ['Philox'],
      'numpy.random._sfc64': ['SFC64'],
      'numpy.dtypes': ['Float64DType', 'Float32DType', 'Int64DType', 'Int32DType', 'BoolDType', 'ObjectDType', 'StrDType', 'UInt8DType', 'Float16DType', 'Int8DType', 'Int16DType', 'UInt16DType', 'UInt32DType', 'UInt64DType', 'BytesDType', 'VoidDType'],
      codecs: ['encode'],
      _codecs: ['encode'],
    },
  },
  {
    id: 'scikit-learn',
    exact: {
      'joblib.numpy_pickle': ['NumpyArrayWrapper', 'NDArrayWrapper', 'ZNDArrayWrapper'],
      'sklearn.externals.joblib.numpy_pickle': ['NumpyArrayWrapper', 'NDArrayWrapper', 'ZNDArrayWrapper'],
      'scipy.sparse._csr': ['csr_matrix', 'csr_array'],
      'scipy.sparse._csc': ['csc_matrix', 'csc_array'],
      'scipy.sparse._coo': ['coo_matrix', 'coo_array'],
      'scipy.sparse.csr': ['csr_matrix'],
      'scipy.sparse.csc': ['csc_matrix'],
      'scipy.sparse.coo': ['coo_matrix'],
    },
    // sklearn estimators, transformers and their Cython state objects (Tree, losses, splitters).
    classPrefixes: ['sklearn.', 'xgboost.sklearn.', 'lightgbm.sklearn.', 'catboost.core.'],
  },
  {
    id: 'transformers',
    exact: {
      'transformers.training_args': ['TrainingArguments', 'OptimizerNames'],
      'transformers.training_args_seq2seq': ['Seq2SeqTrainingArguments'],
      'transformers.trainer_utils': ['HubStrategy', 'SchedulerType', 'IntervalStrategy', 'EvaluationStrategy', 'SaveStrategy', 'FSDPOption', 'ShardedDDPOption'],
      'transformers.trainer_pt_utils': ['AcceleratorConfig'],
      'transformers.integrations.deepspeed': ['HfDeepSpeedConfig', 'HfTrainerDeepSpeedConfig'],
      'accelerate.state': ['PartialState'],
      'accelerate.utils.dataclasses': ['DistributedType', 'DeepSpeedPlugin'],
      'tokenizers': ['Tokenizer', 'AddedToken'],
      'tokenizers.models': ['Model'],
    },
    classPrefixes: ['trl.trainer.', 'peft.utils.peft_types', 'peft.tuners.'],
  },
];

const EXACT_ALLOW = new Set(PROFILES.flatMap((p) => Object.entries(p.exact).flatMap(([m, names]) => names.map((n) => `${m}\n${n}`))));

// Module prefixes never allowed through class prefixes even when under a trusted framework.
// Helper modules inside a framework re-export stdlib and joblib objects (sklearn.utils._joblib.Parallel,
// sklearn.datasets._openml.Request): only estimator modules qualify.
const NEVER_BY_PREFIX = /(^|\.)(hub|jit|serialization|_dynamo|_inductor|package|distributed|utils\._config_module|externals|datasets|_build_utils|tests?|testing)(\.|$)|^sklearn\.utils\.(?!_bunch$|_tags$)/;
/** Class names that are process, file or network primitives wherever they are re-exported from. */
const NEVER_BY_PREFIX_NAMES = new Set(['Parallel', 'Memory', 'Popen', 'Request', 'TemporaryDirectory', 'NamedTemporaryFile', 'Thread', 'Process', 'Pool', 'ThreadPoolExecutor', 'ProcessPoolExecutor', 'Session', 'Socket']);

const CAMEL = /^_?[A-Z][A-Za-z0-9_]*$/;
const CYTHON_UNPICKLE = /^__pyx_unpickle_[A-Za-z0-9_]+$/;

function lookupDeny(module: string, name: string): { cat: DenyCategory; matched: string } | null {
  // A curated exact allowlist entry beats a wildcard on a parent module (torch.jit._pickle.build_intlist
  // is how TorchScript stores lists, although torch.jit as a whole is denied).
  const own = DENY[module];
  if (EXACT_ALLOW.has(`${module}\n${name}`) && !(own && own.names !== '*' && own.names.includes(name))) return null;
  // exact module, then each parent module (a `*` on `asyncio` covers `asyncio.unix_events`)
  const parts = module.split('.');
  const first = name.split('.')[0];
  for (let k = parts.length; k >= 1; k--) {
    const m = parts.slice(0, k).join('.');
    const e = DENY[m];
    if (!e) continue;
    if (e.names === '*') return { cat: e.cat, matched: `${m}.*` };
    if (k === parts.length && (e.names.includes(name) || e.names.includes(first))) return { cat: e.cat, matched: `${m}.${first}` };
  }
  // `module.name` may itself be a denied module path (e.g. `torch` + `hub.load`)
  const full = `${module}.${name}`.split('.');
  for (let k = full.length; k > parts.length; k--) {
    const m = full.slice(0, k).join('.');
    const e = DENY[m];
    if (e && e.names === '*') return { cat: e.cat, matched: `${m}.*` };
  }
  return null;
}

function lookupAllow(module: string, name: string): string | null {
  if (name.includes('.')) return null;
  for (const p of PROFILES) {
    if (p.exact[module]?.includes(name)) return p.id;
    if (p.classPrefixes?.some((pre) => module.startsWith(pre) || module === pre.replace(/\.$/, '')) && !NEVER_BY_PREFIX.test(module)) {
      if ((CAMEL.test(name) && !NEVER_BY_PREFIX_NAMES.has(name)) || CYTHON_UNPICKLE.test(name)) return p.id;
    }
  }
  return null;
}

const CATEGORY_RANK: Record<DenyCategory, number> = { exec: 9, process: 9, evasion: 9, import: 8, loader: 8, traversal: 7, file: 6, network: 6, indirection: 5, introspection: 4 };

/** Judges one pickled import on every name the loader could resolve it to; the worst reading wins. */
export function judgeImport(module: string, name: string): ImportVerdict {
  let worst: ImportVerdict | null = null;
  const consider = (v: ImportVerdict) => {
    if (v.kind !== 'denied') return;
    if (!worst || worst.kind !== 'denied' || CATEGORY_RANK[v.category] > CATEGORY_RANK[worst.category]) worst = v;
  };
  for (const [m, n] of candidateNames(module, name)) {
    const parts = n.split('.');
    // builtins: allowlist-first, with exec-class names graded critical
    if (m === 'builtins') {
      const b = parts[0];
      if (EXEC_BUILTINS.has(b)) consider({ kind: 'denied', category: b === '__import__' ? 'import' : 'exec', matched: `builtins.${b}`, reason: `builtins.${b} runs or imports code` });
      else if (!SAFE_BUILTINS.has(b)) consider({ kind: 'denied', category: INDIRECT_BUILTINS.has(b) ? 'indirection' : 'introspection', matched: `builtins.${b}`, reason: `builtins.${b} is not a plain data constructor` });
    }
    const d = lookupDeny(m, n);
    if (d) consider({ kind: 'denied', category: d.cat, matched: d.matched, reason: `${d.matched} is on the deny list (${d.cat})` });
    if (parts.length > 1) {
      // Dotted names walk attributes (protocol >= 4 and the C loader): every component matters.
      const dunder = parts.find((p) => DANGEROUS_DUNDERS.has(p));
      if (dunder) consider({ kind: 'denied', category: 'traversal', matched: dunder, reason: `dotted name reaches ${dunder}` });
      consider({ kind: 'denied', category: 'indirection', matched: `${m}.${n}`, reason: 'dotted name walks attributes, a common way to reach a callable that no list names' });
      for (const p of parts) {
        const asModule = DENY[p];
        if (asModule) consider({ kind: 'denied', category: asModule.cat, matched: `${p} (via ${m}.${n})`, reason: `dotted name reaches module ${p} through ${m}` });
        if (EXEC_BUILTINS.has(p)) consider({ kind: 'denied', category: 'exec', matched: p, reason: `dotted name reaches ${p}` });
      }
    }
    for (const p of m.split('.')) {
      if (p.startsWith('__') && DANGEROUS_DUNDERS.has(p)) consider({ kind: 'denied', category: 'traversal', matched: p, reason: `module path contains ${p}` });
      // Vendored copies (ray.cloudpickle, pyspark.cloudpickle, joblib.externals.cloudpickle) build code too.
      if (p === 'cloudpickle' || p === 'dill') consider({ kind: 'denied', category: 'exec', matched: `${p} (in ${m})`, reason: `${m} is a copy of ${p}, which rebuilds functions from code objects` });
    }
  }
  if (worst) return worst;
  for (const [m, n] of candidateNames(module, name)) {
    const profile = lookupAllow(m, n);
    if (profile) return { kind: 'allowed', profile };
  }
  return { kind: 'unknown', reason: `${module}.${name} is on no allowlist profile` };
}

export function isCriticalCategory(c: DenyCategory): boolean {
  return CATEGORY_RANK[c] >= 8;
}

// dill pickles builtin types by name through dill._dill._load_type("bytes"); only data types are harmless
// (CodeType/FunctionType are how dill ships code, and stay findings).
const DILL_DATA_TYPES = new Set(['bytes', 'bytearray', 'set', 'frozenset', 'dict', 'list', 'tuple', 'str', 'int', 'float', 'complex', 'bool', 'NoneType', 'slice', 'range', 'OrderedDict', 'DictType', 'ListType', 'TupleType', 'StringType', 'IntType', 'FloatType']);

/** Type factories whose result may be called when every argument names a data type. */
export function isDataTypeFactory(module: string, name: string, args: string[]): boolean {
  if (!((module === 'dill._dill' || module === 'dill.dill') && name === '_load_type')) return false;
  return args.length > 0 && args.every((a) => {
    const m = /^\("([A-Za-z]+)",?\)$/.exec(a);
    return m !== null && DILL_DATA_TYPES.has(m[1]);
  });
}
