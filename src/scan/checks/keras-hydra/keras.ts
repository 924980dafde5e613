// Keras model configs (config.json inside .keras, model_config/training_config attributes of legacy
// .h5 files). Loading a Keras model rebuilds every object named in the config: a `module` outside Keras
// is imported and its attribute called (CVE-2025-1550), Lambda layers carry marshalled bytecode that runs
// (CVE-2024-3660), and some Keras callables are gadgets by themselves (get_file, unsafe-mode switch,
// TorchModuleWrapper's torch.load). This reads the config as data and reports those.
import { BufferSource } from '../../../formats/source.ts';
import { openZipEntry, readZipDirectory } from '../../../formats/zip/index.ts';
import { analyzePickle } from '../../analyzers/pickle.ts';
import type { Entry, InputScan } from '../../context.ts';
import type { FindingInput, Severity } from '../../model.ts';
import { judgeImport, isCriticalCategory } from '../../pickle-policy.ts';
import { DANGEROUS_CODE_NAMES, marshalStrings } from './marshal.ts';
import { isRecord, preview, walkTree } from './tree.ts';

/** Where findings go: the entry's row, under `path` (the config file, or `x.h5!<attr model_config>`). */
export interface Sink {
  input: InputScan;
  entry: Entry;
  path: string;
}

const say = (s: Sink, f: FindingInput) => s.input.report(s.entry, { ...f, path: f.path ?? s.path });

/**
 * Modules a config may name. Keras itself (keras.*, including keras.src.* where Keras 3 records its own
 * classes), the Keras 2 packagings (tf_keras, tensorflow.keras, tensorflow.python.keras) and the Keras
 * team's model libraries (keras_hub, keras_nlp, keras_cv), whose presets name their own modules.
 */
const KERAS_MODULE = /^(keras|tf_keras|tensorflow\.keras|tensorflow\.python\.keras|keras_hub|keras_nlp|keras_cv)(\.|$)/;

/** Keras callables that are dangerous by themselves, whatever module they are reached through. */
const GADGETS: Record<string, { severity: Severity; effect: string; cve: string }> = {
  get_file: { severity: 'critical', effect: 'downloads a URL and writes it to a path of the config\'s choosing', cve: 'CVE-2025-8747' },
  enable_unsafe_deserialization: { severity: 'critical', effect: 'turns safe mode off, so later Lambda bytecode and arbitrary modules load', cve: 'CVE-2025-9906' },
  load_model: { severity: 'high', effect: 'loads another model file (which is not in this scan) while loading this one', cve: 'CVE-2025-9906' },
  load_weights: { severity: 'high', effect: 'reads another weights file while loading this one', cve: 'CVE-2025-9906' },
  TorchModuleWrapper: { severity: 'high', effect: 'torch.load()s a pickled PyTorch module stored in the config (weights_only=False)', cve: 'CVE-2025-49655' },
};

/** Preprocessing layers that read a vocabulary file when `vocabulary` is a path (file read / SSRF). */
const FILE_VOCABULARY = new Set(['StringLookup', 'IntegerLookup', 'TextVectorization']);

/** TF 2.11-2.15 record their own optimizers as "Custom>Adam"; those are Keras classes, not custom objects. */
const KERAS_OPTIMIZERS = new Set(['Adam', 'AdamW', 'SGD', 'RMSprop', 'Adagrad', 'Adadelta', 'Adamax', 'Nadam', 'Ftrl', 'Lion', 'Adafactor', 'LossScaleOptimizer']);

const TF_OP_LAYER = new Set(['TFOpLambda', 'SlicingOpLambda']);
const RISKY_TF_OP = /(^|\.)(write_file|read_file|py_func|py_function|numpy_function|PyFunc\w*|EagerPyFunc|WriteFile|ReadFile|ImmutableConst|MatchingFiles|load_library|load_op_library|gfile\.\w+)$/;

const DOTTED = /^[A-Za-z_][\w]*(\.[A-Za-z_]\w*)+$/;

/** True when a parsed JSON document has the shape of a Keras model config or Keras metadata. */
export function looksLikeKerasConfig(doc: unknown): boolean {
  if (!isRecord(doc)) return false;
  if (typeof doc.class_name === 'string' && 'config' in doc) return true;
  if (typeof doc.keras_version === 'string') return true;
  return typeof doc.module === 'string' && KERAS_MODULE.test(doc.module) && 'class_name' in doc;
}

function judge(module: string, name: string): { severity: Severity; matched: string | null } {
  const v = judgeImport(module, name);
  if (v.kind === 'denied') return { severity: isCriticalCategory(v.category) ? 'critical' : 'high', matched: v.matched };
  return { severity: 'high', matched: null };
}

export function checkKerasConfig(doc: unknown, sink: Sink): void {
  const handled = new WeakSet<object>();
  const walk = walkTree(doc);
  for (const { value: n, path } of walk.nodes) {
    if (!isRecord(n) || handled.has(n)) continue;
    const cls = typeof n.class_name === 'string' ? n.class_name : null;
    const where = path || '(top level)';
    if (cls === null) continue;
    const module = typeof n.module === 'string' ? n.module : null;
    const cfg = isRecord(n.config) ? n.config : null;
    const layerName = cfg && typeof cfg.name === 'string' ? cfg.name : null;

    if (cls === 'Lambda' && cfg) {
      reportLambda(sink, cfg, where, layerName, handled);
    } else if (cls === '__lambda__') {
      reportLambdaCode(sink, where, null, 'lambda', lambdaCode(n));
    }

    // The callable this node resolves to: a class, or for Keras 3 function references {class_name:
    // "function", config: "name"} the named function.
    const name = cls === 'function' && typeof n.config === 'string' ? n.config : cls;
    const gadget = GADGETS[name.split('.').pop() ?? name];
    if (gadget) {
      say(sink, {
        ruleId: 'MG-KERAS-003',
        severity: gadget.severity,
        message: `Config at ${where} names ${module ? `${module}.` : ''}${name}, which ${gadget.effect}.`,
        evidence: { at: where, module, name, cve: gadget.cve },
      });
      if (name === 'TorchModuleWrapper' && cfg) scanTorchModule(sink, cfg.module, where);
    }
    if (FILE_VOCABULARY.has(cls) && cfg && typeof cfg.vocabulary === 'string') {
      const vocabulary = cfg.vocabulary.replace(/\/\/[^/@\s]+@/, '//***@'); // never show URL credentials
      say(sink, {
        ruleId: 'MG-KERAS-003',
        severity: 'high',
        message: `${cls} layer at ${where} reads its vocabulary from "${preview(vocabulary, 120)}" when the model loads (file read or URL fetch).`,
        evidence: { at: where, name: cls, vocabulary: preview(vocabulary, 200), cve: 'CVE-2025-12058' },
      });
    }

    if (module !== null && !KERAS_MODULE.test(module)) {
      const j = judge(module, name);
      say(sink, {
        ruleId: 'MG-KERAS-002',
        severity: j.severity,
        message: `Config at ${where} makes Keras import module "${module}" and use ${name}${j.matched ? ` (deny list: ${j.matched})` : ''}; a module outside Keras runs its own code on load.`,
        evidence: { at: where, module, name, registered_name: typeof n.registered_name === 'string' ? n.registered_name : null, matched: j.matched },
      });
    } else if (module === null && DOTTED.test(cls) && !KERAS_MODULE.test(cls)) {
      const dot = cls.lastIndexOf('.');
      const j = judge(cls.slice(0, dot), cls.slice(dot + 1));
      say(sink, {
        ruleId: 'MG-KERAS-002',
        severity: j.severity,
        message: `Config at ${where} names the Python path "${cls}" as a class.`,
        evidence: { at: where, name: cls, matched: j.matched },
      });
    } else if (module === null && cls.includes('>')) {
      const [pkg, short] = cls.split('>', 2);
      if (!(pkg === 'Custom' && KERAS_OPTIMIZERS.has(short))) {
        say(sink, {
          ruleId: 'MG-KERAS-004',
          message: `Config at ${where} uses the registered custom object "${cls}"; loading needs its code, supplied by whoever loads the model.`,
          evidence: { at: where, name: cls },
        });
      }
    }

    // tf.keras wraps TF API calls of functional models as TFOpLambda layers whose `function` is a path in
    // the `tf` namespace (resolved there only): ordinary ops are fine, file and Python-callback ops are not.
    if (cfg && TF_OP_LAYER.has(cls)) {
      const fn = typeof cfg.function === 'string' ? cfg.function : '';
      if (RISKY_TF_OP.test(fn)) {
        say(sink, { ruleId: 'MG-KERAS-003', severity: 'high', message: `${cls} layer at ${where} calls tf.${fn}, which reads or writes files, loads native code or calls back into Python when the model runs.`, evidence: { at: where, name: `tf.${fn}` } });
      }
      continue;
    }
    // Function references by dotted path (`fn`, `function`) outside Keras.
    if (cfg) {
      for (const key of ['fn', 'function']) {
        const v = cfg[key];
        if (typeof v === 'string' && DOTTED.test(v) && !KERAS_MODULE.test(v) && cls !== 'Lambda') {
          const dot = v.lastIndexOf('.');
          const j = judge(v.slice(0, dot), v.slice(dot + 1));
          say(sink, { ruleId: 'MG-KERAS-002', severity: j.severity, message: `Config at ${where}.config.${key} references the callable "${v}" outside Keras.`, evidence: { at: `${where}.config.${key}`, name: v, matched: j.matched } });
        }
      }
    }
  }
  if (walk.truncated.depth || walk.truncated.nodes) {
    sink.entry.row.status = 'error';
    say(sink, { ruleId: 'MG-LIM-001', message: `Keras config nested deeper or larger than the scanner walks; the rest was not inspected.`, evidence: { limit: walk.truncated.depth ? 'depth' : 'nodes' } });
  }
}

/** The base64 code of a lambda, in any of the layouts Keras 2 and 3 have written. */
function lambdaCode(fn: unknown): string | null {
  if (typeof fn === 'string') return fn;
  if (Array.isArray(fn) && typeof fn[0] === 'string') return fn[0];
  if (isRecord(fn)) {
    const c = fn.config;
    if (isRecord(c)) {
      if (typeof c.code === 'string') return c.code;
      if (Array.isArray(c.value) && typeof c.value[0] === 'string') return c.value[0];
    }
  }
  return null;
}

function reportLambda(sink: Sink, cfg: Record<string, unknown>, where: string, layerName: string | null, handled: WeakSet<object>): void {
  const fn = cfg.function;
  if (fn !== null && typeof fn === 'object') handled.add(fn);
  // Keras 2 "function" type: a named function in `module`; Keras 3: {module, class_name: "function", config: name}.
  let named: string | null = null;
  if (typeof fn === 'string' && cfg.function_type === 'function') named = `${typeof cfg.module === 'string' ? cfg.module : '?'}.${fn}`;
  if (isRecord(fn) && fn.class_name === 'function' && typeof fn.config === 'string') named = `${typeof fn.module === 'string' ? fn.module : '?'}.${fn.config}`;
  if (named) {
    const dot = named.lastIndexOf('.');
    const keras = KERAS_MODULE.test(named);
    const j = keras ? { severity: 'high' as Severity, matched: null } : judge(named.slice(0, dot), named.slice(dot + 1));
    say(sink, {
      ruleId: 'MG-KERAS-001',
      severity: j.severity,
      message: `Lambda layer${layerName ? ` "${layerName}"` : ''} at ${where} calls the Python function ${named} when the model is loaded and run${j.matched ? ` (deny list: ${j.matched})` : ''}.`,
      evidence: { at: where, layer: layerName, function: named, matched: j.matched },
    });
    return;
  }
  reportLambdaCode(sink, where, layerName, String(cfg.function_type ?? 'lambda'), lambdaCode(fn));
  // Keras 2 may marshal the output_shape function too.
  if (cfg.output_shape_type === 'lambda' && cfg.output_shape != null) {
    reportLambdaCode(sink, `${where}.config.output_shape`, layerName, 'lambda', lambdaCode(cfg.output_shape));
  }
}

function reportLambdaCode(sink: Sink, where: string, layerName: string | null, kind: string, code: string | null): void {
  let strings: string[] = [];
  let bytes = 0;
  if (code !== null) {
    const raw = Buffer.from(code.slice(0, 8 << 20), 'base64');
    bytes = raw.length;
    strings = marshalStrings(raw);
  }
  const dangerous = strings.filter((s) => DANGEROUS_CODE_NAMES.test(s));
  const shown = strings.map((s) => JSON.stringify(s)).join(', ');
  say(sink, {
    ruleId: 'MG-KERAS-001',
    severity: dangerous.length ? 'critical' : 'high',
    message: `Lambda layer${layerName ? ` "${layerName}"` : ''} at ${where} carries ${bytes ? `${bytes} bytes of ` : ''}marshalled Python bytecode that runs when the model is loaded${shown ? `; its strings: ${preview(shown, 300)}` : ''}${dangerous.length ? ` (uses ${dangerous.join(', ')})` : ''}.`,
    evidence: { at: where, layer: layerName, functionType: kind, codeBytes: bytes, strings, dangerous },
  });
}

/** TorchModuleWrapper stores torch.save() bytes (base64, or a Keras __bytes__ value); scan them as pickle. */
function scanTorchModule(sink: Sink, value: unknown, where: string): void {
  let text: string | null = null;
  if (typeof value === 'string') text = value;
  else if (isRecord(value) && isRecord(value.config) && typeof value.config.value === 'string') text = value.config.value;
  if (text === null) return;
  const bytes = /^[A-Za-z0-9+/=\s]+$/.test(text) ? Buffer.from(text, 'base64') : Buffer.from(text, 'latin1');
  const path = `${sink.path}!<${where} TorchModuleWrapper module>`;
  const src = new BufferSource(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
  try {
    if (bytes[0] === 0x50 && bytes[1] === 0x4b) {
      const dir = readZipDirectory(src, { maxEntries: sink.input.limits.maxEntries });
      for (const e of dir.entries) {
        if (!/\.pkl$/.test(e.name)) continue;
        const r = analyzePickle(sink.input, sink.entry, openZipEntry(src, e, { maxBytes: 256 << 20 }), { path: `${path}!${e.name}` });
        if (r.incomplete) sink.entry.row.status = 'error';
      }
    } else if (bytes[0] === 0x80) {
      const r = analyzePickle(sink.input, sink.entry, src, { path });
      if (r.incomplete) sink.entry.row.status = 'error';
    }
  } catch (e) {
    say(sink, { ruleId: 'MG-KERAS-003', path, severity: 'high', message: `The TorchModuleWrapper payload could not be unpacked for scanning: ${(e as Error).message}.`, evidence: { at: where } });
  }
}
