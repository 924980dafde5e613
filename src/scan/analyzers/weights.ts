// Single-file weight formats: pickle (plain, legacy PyTorch, joblib), numpy .npy and safetensors.
import { looksLikePickleStart, scanPickle } from '../../formats/pickle/index.ts';
import { looksLikeNpy, parseNpyHeader } from '../../formats/numpy/index.ts';
import { looksLikeSafetensors, parseSafetensors } from '../../formats/safetensors/index.ts';
import { SliceSource, type ByteSource } from '../../formats/source.ts';
import type { ZipDirectory } from '../../formats/zip/index.ts';
import { looksLikeZip, readZipDirectory, scanZip } from './zip.ts';
import { analyzePickle } from './pickle.ts';
import type { Analyzer } from './types.ts';

// torch.save's legacy format starts with pickle(MAGIC_NUMBER) = PROTO 2, LONG1 of 10 bytes, STOP.
const LEGACY_TORCH_MAGIC = Buffer.from('80028a0a6cfc9c46f9206aa850192e', 'hex');

/** Names that claim to be a pickle; content that is not one then fails closed. */
export const PICKLE_NAME = /\.(pkl|pickle|dill|joblib|jbl|pt|pth|ckpt|sav|pck)$|(^|\/)(pytorch_model[^/]*\.bin|training_args\.bin|optimizer\.bin|scheduler\.bin|rng_state[^/]*\.pth?)$/i;
/** Names that may be a pickle but as often are raw data. */
const MAYBE_PICKLE_NAME = /\.(bin|dat|data|model|p|pkl\.\d+)$/i;
const IDENT = /^[A-Za-z_][\w.]*$/;

export const pickleAnalyzer: Analyzer = {
  id: 'pickle',
  version: 1,
  detect(head, entry) {
    if (looksLikePickleStart(head[0], head[1]) && head[0] === 0x80) return true;
    if (PICKLE_NAME.test(entry.name)) return true;
    // Protocol 0/1 pickles have no magic: accept content that walks as a pickle and imports real names.
    if (head.length < 2 || entry.source.size > 64 << 20) return false;
    if (!MAYBE_PICKLE_NAME.test(entry.name) && !looksLikePickleStart(head[0], head[1]) && head[0] !== 0x5d && head[0] !== 0x7d) return false;
    const probe = scanPickle(entry.source, { pickles: 1, limits: { deadline: Date.now() + 2000 } });
    const realImports = probe.imports.some((i) => IDENT.test(i.module) && IDENT.test(i.name));
    return realImports || (probe.pickles === 1 && probe.opcodes >= 3 && probe.endOffset === entry.source.size);
  },
  async analyze(entry, input, walk) {
    const src = entry.source;
    const head = src.read(0, 2);
    if (head[0] !== 0x80) {
      // Chosen by name: if the bytes do not even start a pickle, say so instead of "malformed pickle".
      const probe = scanPickle(src, { pickles: 1, limits: { deadline: input.deadline } });
      if (probe.imports.length === 0 && probe.pickles === 0 && probe.opcodes <= 2) {
        entry.row.format = 'unknown';
        entry.row.status = 'error';
        input.report(entry, { ruleId: 'MG-FMT-001', message: `Named like a pickle-based model file, but the content is no pickle (nor any other format modelgate knows).` });
        return;
      }
    }
    // A pickle glued in front of a zip is a polyglot: torch.load reads the pickle, zip readers the
    // archive. The zip reading scans the prefix as a pickle too, so both interpretations are covered.
    if (looksLikeZip(src)) {
      const dir = tryZipDirectory(src, input.limits.maxEntries);
      if (dir && dir.prefixBytes > 0) {
        input.countEntries(dir.entries.length);
        await scanZip(entry, input, walk, dir);
        entry.row.format = 'polyglot';
        return;
      }
    }
    const legacy = Buffer.from(src.read(0, LEGACY_TORCH_MAGIC.length)).equals(LEGACY_TORCH_MAGIC);
    entry.row.format = legacy ? 'pytorch-legacy' : 'pickle';
    // Legacy torch.save: magic, protocol, sys_info, the object, storage keys; then raw storage bytes.
    const r = analyzePickle(input, entry, src, { pickles: legacy ? 5 : 'all' });
    if (r.result.joblibArrays > 0) entry.row.format = 'joblib';
    if (r.incomplete) entry.row.status = 'error';
  },
};

function tryZipDirectory(src: ByteSource, maxEntries: number): ZipDirectory | null {
  try {
    return readZipDirectory(src, { maxEntries });
  } catch {
    return null;
  }
}

export const npyAnalyzer: Analyzer = {
  id: 'npy',
  version: 1,
  detect: (head) => looksLikeNpy(head),
  async analyze(entry, input) {
    const h = parseNpyHeader(entry.source);
    const payload = entry.source.size - h.dataOffset;
    if (h.hasObjects) {
      input.report(entry, { ruleId: 'MG-NPY-001', offset: h.dataOffset, message: `Array of dtype ${JSON.stringify(h.descr)} holds Python objects; numpy.load(allow_pickle=True) unpickles the data section, which was scanned.` });
      const r = analyzePickle(input, entry, new SliceSource(entry.source, h.dataOffset, payload), { path: `${entry.path}!<object data>`, pickles: 1 });
      if (r.incomplete) entry.row.status = 'error';
      return;
    }
    if (h.dataBytes !== null && h.dataBytes !== payload) {
      input.report(entry, { ruleId: 'MG-NPY-002', offset: h.dataOffset, message: `Data section is ${payload} bytes but shape × item size is ${h.dataBytes}.` });
      if (payload < h.dataBytes) entry.row.status = 'error';
    }
  },
};

const FATAL_ST = new Set(['header-length', 'header-json', 'header-not-object', 'invalid-utf8']);

export const safetensorsAnalyzer: Analyzer = {
  id: 'safetensors',
  version: 1,
  detect: (head, entry) => looksLikeSafetensors(head, entry.source.size),
  async analyze(entry, input) {
    const info = parseSafetensors(entry.source, { maxHeaderBytes: input.limits.maxHeaderBytes });
    for (const p of info.problems.slice(0, 50)) {
      const minor = p.kind === 'header-padding' || p.kind === 'metadata-type';
      input.report(entry, {
        ruleId: minor ? 'MG-ST-002' : 'MG-ST-001',
        offset: p.offset,
        message: `safetensors ${p.kind}${p.tensor ? ` in tensor "${p.tensor}"` : ''}: ${p.detail}.`,
        evidence: { kind: p.kind, tensor: p.tensor },
      });
      if (FATAL_ST.has(p.kind)) entry.row.status = 'error';
    }
  },
};
