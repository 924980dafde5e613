// What Python calls can do, by fully qualified name (after resolving imports and aliases). A pattern
// ending in ".*" matches any attribute under it; "os.exec*" any name with that prefix.

export type Category =
  | 'process' // starts a process or shell
  | 'network' // opens a connection or downloads
  | 'file' // writes, moves or deletes files
  | 'dynamic' // runs code built at run time or imported by a computed name
  | 'native' // loads or compiles native code
  | 'loader' // a deserializer that can run code from a file
  | 'hijack' // replaces modules, import hooks or builtins
  | 'env' // reads credentials from the environment
  | 'credentials' // names a credential file
  | 'obfuscated'; // runs code decoded from an encoded literal or downloaded

const TABLE: Record<Exclude<Category, 'env' | 'credentials' | 'obfuscated'>, string[]> = {
  process: [
    'os.system', 'os.popen', 'os.popen2', 'os.popen3', 'os.popen4', 'os.exec*', 'os.spawn*', 'os.posix_spawn', 'os.posix_spawnp', 'os.startfile',
    'os.fork', 'os.forkpty', 'subprocess.*', 'pty.spawn', 'pty.fork', 'commands.*', 'popen2.*', 'platform.popen', 'asyncio.create_subprocess_exec',
    'asyncio.create_subprocess_shell', 'pexpect.spawn', 'pexpect.run', 'webbrowser.*', 'get_ipython().system', 'get_ipython().getoutput',
    'get_ipython().run_cell_magic', 'distutils.spawn.spawn',
  ],
  network: [
    'socket.socket', 'socket.create_connection', 'socket.create_server', 'socket.getaddrinfo', 'socket.gethostbyname', 'socket.gethostbyname_ex',
    'socket.fromfd', 'ssl.wrap_socket', 'ssl.create_connection', 'urllib.request.*', 'urllib.urlopen', 'urllib.urlretrieve', 'requests.*', 'httpx.*',
    'http.client.HTTPConnection', 'http.client.HTTPSConnection', 'ftplib.*', 'smtplib.*', 'poplib.*', 'imaplib.*', 'telnetlib.*', 'paramiko.*',
    'aiohttp.*', 'urllib3.*', 'websocket.*', 'websockets.*', 'xmlrpc.client.ServerProxy', 'pycurl.*', 'wget.*', 'torch.hub.load',
    'torch.hub.download_url_to_file', 'torch.hub.load_state_dict_from_url', 'tensorflow.keras.utils.get_file', 'keras.utils.get_file',
  ],
  file: [
    'os.remove', 'os.unlink', 'os.rmdir', 'os.removedirs', 'os.rename', 'os.renames', 'os.replace', 'os.chmod', 'os.chown', 'os.lchown', 'os.truncate',
    'os.symlink', 'os.link', 'os.mkfifo', 'os.mknod', 'shutil.rmtree', 'shutil.copy', 'shutil.copy2', 'shutil.copyfile', 'shutil.copytree', 'shutil.move',
    'shutil.chown', 'shutil.unpack_archive',
  ],
  dynamic: [
    'builtins.exec', 'builtins.eval', 'builtins.compile', 'builtins.__import__', 'builtins.execfile', 'importlib.import_module', 'importlib.__import__',
    'importlib.reload', 'importlib.util.spec_from_file_location', 'importlib.machinery.SourceFileLoader', 'importlib.machinery.SourcelessFileLoader',
    'imp.load_source', 'imp.load_module', 'imp.load_compiled', 'imp.load_dynamic', 'runpy.*', 'marshal.load', 'marshal.loads', 'pickle.load',
    'pickle.loads', 'pickle.Unpickler', 'dill.load', 'dill.loads', 'cloudpickle.load', 'cloudpickle.loads', 'shelve.open', 'types.FunctionType',
    'types.CodeType', 'types.LambdaType', 'code.InteractiveInterpreter', 'code.InteractiveConsole', 'code.interact', 'codeop.*', 'yaml.unsafe_load',
    'yaml.unsafe_load_all', 'zipimport.zipimporter', 'pydoc.locate', 'pkgutil.resolve_name',
  ],
  native: [
    'ctypes.CDLL', 'ctypes.PyDLL', 'ctypes.WinDLL', 'ctypes.OleDLL', 'ctypes.LibraryLoader', 'ctypes.cdll.*', 'ctypes.pydll.*', 'ctypes.windll.*',
    'ctypes.oledll.*', 'ctypes.pythonapi.*', 'ctypes.memmove', 'ctypes.memset', 'ctypes.string_at', 'ctypes.CFUNCTYPE', '_ctypes.dlopen',
    'torch.ops.load_library', 'torch.classes.load_library', 'torch.utils.cpp_extension.load', 'torch.utils.cpp_extension.load_inline',
  ],
  loader: ['torch.load', 'torch.jit.load', 'joblib.load', 'pandas.read_pickle', 'numpy.load', 'keras.models.load_model', 'tensorflow.keras.models.load_model'],
  hijack: [
    'sys.modules.update', 'sys.modules.setdefault', 'sys.modules.__setitem__', 'sys.meta_path.*', 'sys.path_hooks.*', 'sys.settrace', 'sys.setprofile',
    'threading.settrace', 'threading.setprofile',
  ],
};

// Exceptions and constants of listed modules: calling them (raise subprocess.CalledProcessError(...)) does nothing.
const HARMLESS = new Set([
  'subprocess.CalledProcessError', 'subprocess.TimeoutExpired', 'subprocess.SubprocessError', 'subprocess.CompletedProcess', 'subprocess.list2cmdline',
  'requests.exceptions.*', 'requests.HTTPError', 'requests.RequestException', 'requests.ConnectionError', 'requests.Timeout', 'requests.codes.*',
  'requests.utils.*', 'requests.structures.*', 'httpx.HTTPError', 'httpx.HTTPStatusError', 'httpx.Timeout', 'httpx.Limits', 'httpx.URL',
  'urllib.request.pathname2url', 'urllib.request.url2pathname', 'urllib.request.getproxies', 'websockets.exceptions.*', 'aiohttp.ClientTimeout',
  'urllib3.disable_warnings', 'urllib3.util.*', 'urllib3.exceptions.*', 'paramiko.AutoAddPolicy', 'paramiko.RSAKey', 'webbrowser.Error',
]);

/** Method names that write or delete files whatever object they are called on (pathlib, tarfile, zipfile). */
export const FILE_METHODS = new Set(['write_text', 'write_bytes', 'unlink', 'rmdir', 'symlink_to', 'hardlink_to', 'extractall', 'chmod']);

/** Decoders whose output, fed to exec/eval/loads, is an obfuscated payload. */
export const DECODERS = compile([
  'base64.*', 'zlib.decompress', 'gzip.decompress', 'bz2.decompress', 'lzma.decompress', 'codecs.decode', 'binascii.a2b_*', 'binascii.unhexlify',
  'bytes.fromhex', 'bytearray.fromhex', 'builtins.bytes.fromhex', 'builtins.bytearray.fromhex', 'builtins.chr', 'marshal.loads', 'zlib.decompressobj',
]);

/** Calls whose argument is code: a decoded or downloaded argument makes them MG-PY-004. */
export const CODE_SINKS = new Set(['builtins.exec', 'builtins.eval', 'builtins.compile', 'types.FunctionType', 'types.CodeType', 'marshal.loads', 'pickle.loads', 'dill.loads', 'cloudpickle.loads']);

/** Modules whose import alone is worth a low note (the calls are graded separately). */
export const SENSITIVE_MODULES = new Set([
  'subprocess', 'socket', 'pty', 'commands', 'popen2', 'ctypes', 'cffi', 'marshal', 'runpy', 'requests', 'urllib.request', 'urllib2', 'httpx',
  'http.client', 'ftplib', 'smtplib', 'telnetlib', 'paramiko', 'aiohttp', 'urllib3', 'pexpect', 'websocket', 'websockets', 'pycurl', 'code', 'codeop',
]);

/** getattr(X, computed) on these is a dynamic call of an unknown function. */
export const DYNAMIC_TARGETS = new Set(['os', 'subprocess', 'builtins', 'sys', 'importlib', 'ctypes', 'socket', 'pty', 'shutil', 'runpy', 'marshal', 'pickle']);

/** Names the interpreter provides without import. */
export const BUILTINS = new Set([
  'exec', 'eval', 'compile', '__import__', 'open', 'getattr', 'setattr', 'delattr', 'globals', 'locals', 'vars', 'execfile', 'input', 'chr', 'bytes',
  'bytearray', 'dict', 'str', 'repr', 'print', 'breakpoint',
]);

/** Module aliases the loader resolves to the same object. */
const MODULE_ALIASES: Record<string, string> = {
  posix: 'os', nt: 'os', __builtin__: 'builtins', __builtins__: 'builtins', cPickle: 'pickle', _pickle: 'pickle', urllib2: 'urllib.request',
  _io: 'io', 'io.open': 'builtins.open', 'codecs.open': 'builtins.open',
};

export function normalizeName(name: string): string {
  for (let round = 0; round < 2; round++) {
    const hit = Object.entries(MODULE_ALIASES).find(([from]) => name === from || name.startsWith(`${from}.`));
    if (!hit) break;
    name = hit[1] + name.slice(hit[0].length);
  }
  return name;
}

function compile(patterns: string[]): (name: string) => boolean {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const p of patterns) {
    if (p.endsWith('.*')) prefixes.push(p.slice(0, -1));
    else if (p.endsWith('*')) prefixes.push(p.slice(0, -1));
    else exact.add(p);
  }
  // Call results ("requests.Session().get") are judged at the call that produced them, not again.
  return (name) => exact.has(name) || prefixes.some((p) => name.startsWith(p) && !name.slice(p.length).includes('()'));
}

const MATCHERS = Object.entries(TABLE).map(([category, list]) => [category as Category, compile(list)] as const);
const IS_HARMLESS = compile([...HARMLESS]);

export function categorize(name: string): Category | null {
  if (IS_HARMLESS(name)) return null;
  for (const [category, match] of MATCHERS) if (match(name)) return category;
  return null;
}
