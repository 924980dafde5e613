// Turns what the pickle walker saw into findings. Shared by every container that holds pickles:
// plain pickle files, PyTorch zip and legacy archives, numpy object arrays, joblib, nested pickles.
import { scanPickle, type PickleImport, type PickleScanResult } from '../../formats/pickle/index.ts';
import { BufferSource, SliceSource, type ByteSource } from '../../formats/source.ts';
import { LimitError } from '../../formats/errors.ts';
import { judgeImport, isCriticalCategory, isDataTypeFactory, type DenyCategory } from '../pickle-policy.ts';
import type { Entry, InputScan } from '../context.ts';
import { findSecrets, redactSecrets } from '../secrets/index.ts';

export interface PickleAnalysis {
  result: PickleScanResult;
  /** True when the stream could not be read to its end (the caller marks the row `error`). */
  incomplete: boolean;
}

export interface AnalyzePickleOptions {
  /** Path shown in findings (e.g. `model.pt!archive/data.pkl`); defaults to the entry's path. */
  path?: string;
  pickles?: 'all' | number;
  start?: number;
  nesting?: number;
}

const EFFECT: Record<DenyCategory, string> = {
  exec: 'runs Python code',
  process: 'runs commands or spawns processes',
  loader: 'loads another serialized object (a second, unscanned payload)',
  import: 'imports arbitrary modules',
  file: 'reads or writes files',
  network: 'opens network connections',
  indirection: 'builds calls indirectly, the way payloads dodge deny lists',
  introspection: 'reaches interpreter internals',
  evasion: 'tampers with security scanners',
  traversal: 'walks attributes into interpreter internals',
};

export function analyzePickle(input: InputScan, entry: Entry, src: ByteSource, opts: AnalyzePickleOptions = {}): PickleAnalysis {
  const path = opts.path ?? entry.path;
  const result = scanPickle(src, {
    pickles: opts.pickles ?? 'all',
    start: opts.start,
    limits: { deadline: input.deadline },
    collectStrings: SECRET_MIN_LENGTH,
  });
  reportSecrets(input, entry, path, result.strings);
  const allowed: string[] = [];
  for (const imp of result.imports) reportImport(input, entry, path, imp, allowed);
  if (allowed.length) {
    input.report(entry, {
      ruleId: 'MG-PKL-011',
      path,
      message: `Loading constructs ${allowed.length} allowlisted object type${allowed.length > 1 ? 's' : ''}.`,
      evidence: { imports: allowed.slice(0, 200) },
    });
  }
  for (const c of result.callsOfCalls.filter((c) => !(c.inner && isDataTypeFactory(c.inner.module, c.inner.name, [c.inner.args]))).slice(0, 20)) {
    input.report(entry, {
      ruleId: 'MG-PKL-006',
      path,
      offset: c.offset,
      message: `${c.opcode} calls the result of another call: ${c.callee}.`,
      evidence: { opcode: c.opcode, callee: c.callee },
    });
  }
  for (const v of result.frameViolations.slice(0, 5)) {
    input.report(entry, {
      ruleId: 'MG-PKL-007',
      path,
      offset: v.offset,
      message: `FRAME boundary straddled: ${v.detail}; file and in-memory loaders read different opcodes (both were scanned).`,
      evidence: { detail: v.detail },
    });
  }
  const nesting = opts.nesting ?? 0;
  for (const n of result.nested) {
    const inner: ByteSource = n.bytes ? new BufferSource(n.bytes) : new SliceSource(src, n.offset, n.length);
    const innerPath = `${path}@${n.offset}`;
    if (nesting + 1 > input.limits.maxPickleNesting) {
      input.report(entry, { ruleId: 'MG-LIM-001', path: innerPath, message: `Pickles nested deeper than ${input.limits.maxPickleNesting} levels were not scanned.` });
      continue;
    }
    // Candidates are chosen by their first bytes; only those that walk as a pickle are reported.
    const probe = scanPickle(inner, { pickles: 1, limits: { deadline: input.deadline } });
    if (probe.pickles === 0 && probe.imports.length === 0) continue;
    input.report(entry, {
      ruleId: 'MG-PKL-009',
      path,
      offset: n.offset,
      message: `A ${n.length}-byte constant at offset ${n.offset} is itself a pickle; it was scanned as ${innerPath}.`,
      evidence: { nestedPath: innerPath, length: n.length },
    });
    analyzePickle(input, entry, inner, { path: innerPath, nesting: nesting + 1, pickles: 1 });
  }
  if (result.trailing) {
    input.report(entry, {
      ruleId: 'MG-PKL-010',
      path,
      offset: result.trailing.offset,
      message: `${result.trailing.length} bytes after the last pickle are not another pickle.`,
    });
  }
  if (result.error) {
    const e = result.error;
    const found = result.imports.length ? ` Imports found before the break are reported above.` : '';
    if (e instanceof LimitError) {
      input.report(entry, { ruleId: 'MG-LIM-001', path, offset: e.offset, message: `Pickle scan stopped: ${e.message}.${found}`, evidence: { limit: e.limit } });
    } else if (e.code === 'JOBLIB_ARRAY') {
      input.report(entry, { ruleId: 'MG-JBL-001', path, offset: e.offset, message: `joblib array block at offset ${e.offset} cannot be followed: ${e.message}; nothing after it was inspected.${found}`, evidence: { code: e.code } });
    } else {
      input.report(entry, {
        ruleId: 'MG-PKL-008',
        path,
        offset: e.offset,
        message: `Pickle stream is malformed at offset ${e.offset}: ${e.message}.${found}`,
        evidence: { code: e.code, opcodesRead: result.opcodes },
      });
    }
  }
  return { result, incomplete: result.error !== null };
}

// Provider credentials are at least 20 characters (AKIA + 16, hf_ + 34, sk-…); shorter strings are skipped.
const SECRET_MIN_LENGTH = 20;

/** Credentials stored as string constants (a config object pickled with its API key, a tokenizer with a token). */
function reportSecrets(input: InputScan, entry: Entry, path: string, strings: Array<{ offset: number; text: string }>): void {
  let reported = 0;
  for (const s of strings) {
    // Only well-formed provider keys and private keys: a lone string has no `key = value` context.
    for (const m of findSecrets(s.text, { bareValues: true }).filter((x) => x.kind !== 'generic-secret')) {
      if (reported++ >= 50) return;
      input.report(entry, {
        ruleId: m.kind === 'private-key' ? 'MG-SEC-002' : 'MG-SEC-001',
        severity: m.severity,
        path,
        offset: s.offset,
        message: `${m.label} stored as a string constant in the pickle: ${m.masked} (${m.length} characters). Revoke it; loading the file hands it to whoever runs it.`,
        evidence: { kind: m.kind, masked: m.masked, length: m.length },
      });
    }
  }
}

function reportImport(input: InputScan, entry: Entry, path: string, imp: PickleImport, allowed: string[]): void {
  const ref = `${imp.module}.${imp.name}`;
  // Call arguments are shown as evidence, with any credential in them masked.
  const args = imp.args === null ? null : redactSecrets(imp.args, { bareValues: true });
  const call = imp.calls > 0 ? `${ref}(${args ? stripParens(args) : ''})` : ref;
  const evidence = { import: ref, opcode: imp.opcode, calls: imp.calls, args, protocol: imp.protocol };
  if (imp.unresolved) {
    input.report(entry, {
      ruleId: 'MG-PKL-004',
      path,
      offset: imp.offset,
      message: `STACK_GLOBAL at offset ${imp.offset} imports a name built from values the scanner cannot resolve (${ref}).`,
      evidence,
    });
    return;
  }
  if (imp.extCode !== null) {
    input.report(entry, {
      ruleId: 'MG-PKL-005',
      path,
      offset: imp.offset,
      message: `${imp.opcode} at offset ${imp.offset} imports extension code ${imp.extCode} from the loader's copyreg registry${imp.calls ? ' and calls it' : ''}.`,
      evidence,
    });
    return;
  }
  const v = judgeImport(imp.module, imp.name);
  if (v.kind === 'allowed' || isDataTypeFactory(imp.module, imp.name, imp.argsSeen)) {
    allowed.push(ref);
    return;
  }
  if (v.kind === 'denied') {
    const critical = isCriticalCategory(v.category);
    input.report(entry, {
      ruleId: critical ? 'MG-PKL-001' : 'MG-PKL-002',
      path,
      offset: imp.offset,
      message: `Loading ${imp.calls ? 'calls' : 'imports'} ${call}, which ${EFFECT[v.category]} (${v.reason}).`,
      evidence: { ...evidence, matched: v.matched, category: v.category },
    });
    return;
  }
  input.report(entry, {
    ruleId: 'MG-PKL-003',
    path,
    offset: imp.offset,
    message: `Loading ${imp.calls ? 'calls' : 'imports'} ${call}, which is on no allowlist; it runs whatever that code does.`,
    evidence,
  });
}

/** `("a", 1)` → `"a", 1`: the arguments as they would appear inside a call. */
function stripParens(s: string): string {
  if (!s.startsWith('(')) return s;
  return s.endsWith(')') ? s.slice(1, -1).replace(/,$/, '') : s.slice(1);
}
