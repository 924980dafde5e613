// How CPython turns a pickled (module, name) into the object it imports, so that policy judges what the
// loader really imports, not what the bytes spell. Tables from Lib/_compat_pickle.py (protocol < 3 with
// fix_imports, the default) and the C accelerator aliases that shadow public modules.

export const IMPORT_MAPPING: Record<string, string> = {
  __builtin__: 'builtins', copy_reg: 'copyreg', Queue: 'queue', SocketServer: 'socketserver',
  ConfigParser: 'configparser', repr: 'reprlib', tkFileDialog: 'tkinter.filedialog',
  tkSimpleDialog: 'tkinter.simpledialog', tkColorChooser: 'tkinter.colorchooser',
  tkCommonDialog: 'tkinter.commondialog', Dialog: 'tkinter.dialog', Tkdnd: 'tkinter.dnd', tkFont: 'tkinter.font',
  tkMessageBox: 'tkinter.messagebox', ScrolledText: 'tkinter.scrolledtext', Tkconstants: 'tkinter.constants',
  Tix: 'tkinter.tix', ttk: 'tkinter.ttk', Tkinter: 'tkinter', markupbase: '_markupbase', _winreg: 'winreg',
  thread: '_thread', dummy_thread: '_dummy_thread', dbhash: 'dbm.bsd', dumbdbm: 'dbm.dumb', dbm: 'dbm.ndbm',
  gdbm: 'dbm.gnu', xmlrpclib: 'xmlrpc.client', SimpleXMLRPCServer: 'xmlrpc.server', httplib: 'http.client',
  htmlentitydefs: 'html.entities', HTMLParser: 'html.parser', Cookie: 'http.cookies', cookielib: 'http.cookiejar',
  BaseHTTPServer: 'http.server', 'test.test_support': 'test.support', commands: 'subprocess',
  urlparse: 'urllib.parse', robotparser: 'urllib.robotparser', urllib2: 'urllib.request', anydbm: 'dbm',
  _abcoll: 'collections.abc', cPickle: 'pickle', _elementtree: 'xml.etree.ElementTree',
  FileDialog: 'tkinter.filedialog', SimpleDialog: 'tkinter.simpledialog', DocXMLRPCServer: 'xmlrpc.server',
  SimpleHTTPServer: 'http.server', CGIHTTPServer: 'http.server', UserDict: 'collections',
  UserList: 'collections', UserString: 'collections', whichdb: 'dbm', StringIO: 'io', cStringIO: 'io',
};

export const NAME_MAPPING: Record<string, [string, string]> = {
  '__builtin__.xrange': ['builtins', 'range'],
  '__builtin__.reduce': ['functools', 'reduce'],
  '__builtin__.intern': ['sys', 'intern'],
  '__builtin__.unichr': ['builtins', 'chr'],
  '__builtin__.unicode': ['builtins', 'str'],
  '__builtin__.long': ['builtins', 'int'],
  '__builtin__.basestring': ['builtins', 'str'],
  '__builtin__.raw_input': ['builtins', 'input'],
  '__builtin__.execfile': ['builtins', 'exec'],
  'itertools.izip': ['builtins', 'zip'],
  'itertools.imap': ['builtins', 'map'],
  'itertools.ifilter': ['builtins', 'filter'],
  'itertools.ifilterfalse': ['itertools', 'filterfalse'],
  'itertools.izip_longest': ['itertools', 'zip_longest'],
  'UserDict.IterableUserDict': ['collections', 'UserDict'],
  'UserList.UserList': ['collections', 'UserList'],
  'UserString.UserString': ['collections', 'UserString'],
  'whichdb.whichdb': ['dbm', 'whichdb'],
  '_socket.fromfd': ['socket', 'fromfd'],
  '_multiprocessing.Connection': ['multiprocessing.connection', 'Connection'],
  'multiprocessing.process.Process': ['multiprocessing.context', 'Process'],
  'multiprocessing.forking.Popen': ['multiprocessing.popen_fork', 'Popen'],
  'urllib.ContentTooShortError': ['urllib.error', 'ContentTooShortError'],
  'urllib.getproxies': ['urllib.request', 'getproxies'],
  'urllib.pathname2url': ['urllib.request', 'pathname2url'],
  'urllib.quote_plus': ['urllib.parse', 'quote_plus'],
  'urllib.quote': ['urllib.parse', 'quote'],
  'urllib.unquote_plus': ['urllib.parse', 'unquote_plus'],
  'urllib.unquote': ['urllib.parse', 'unquote'],
  'urllib.url2pathname': ['urllib.request', 'url2pathname'],
  'urllib.urlcleanup': ['urllib.request', 'urlcleanup'],
  'urllib.urlencode': ['urllib.parse', 'urlencode'],
  'urllib.urlopen': ['urllib.request', 'urlopen'],
  'urllib.urlretrieve': ['urllib.request', 'urlretrieve'],
  'urllib2.HTTPError': ['urllib.error', 'HTTPError'],
  'urllib2.URLError': ['urllib.error', 'URLError'],
};

/** Private C modules and OS-specific modules that are the same object as a public module. */
export const MODULE_ALIASES: Record<string, string> = {
  posix: 'os', nt: 'os', _io: 'io', _operator: 'operator', _pickle: 'pickle', _codecs: 'codecs',
  _functools: 'functools', _collections: 'collections', posixpath: 'os.path', ntpath: 'os.path',
  _posixsubprocess: 'subprocess', __builtin__: 'builtins', __builtins__: 'builtins', _socket: 'socket',
  _thread: 'threading', _ctypes: 'ctypes', _sqlite3: 'sqlite3', _signal: 'signal', _winapi: 'subprocess',
};

/**
 * Every (module, name) the loader could resolve for one pickled reference: as spelled, after the
 * Python-2 compat mapping (applied by CPython for protocol < 3; we apply it always, since a rewritten
 * PROTO byte must not hide a mapping), and with private aliases replaced by their public module.
 */
export function candidateNames(module: string, name: string): Array<[string, string]> {
  const out: Array<[string, string]> = [[module, name]];
  const mapped = NAME_MAPPING[`${module}.${name}`];
  if (mapped) out.push(mapped);
  else if (IMPORT_MAPPING[module]) out.push([IMPORT_MAPPING[module], name]);
  for (const [m, n] of [...out]) {
    const top = m.split('.')[0];
    const alias = MODULE_ALIASES[m] ?? (MODULE_ALIASES[top] ? MODULE_ALIASES[top] + m.slice(top.length) : undefined);
    if (alias) out.push([alias, n]);
  }
  return out;
}
