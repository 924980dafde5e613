// Remote code: configs whose auto_map makes transformers import .py files (trust_remote_code=True),
// and static analysis of every Python file and notebook. The config finding lists exactly which files
// would be imported; each file's own findings say what that code does and when.
import { lstatSync, readFileSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { FileSource } from '../../formats/source.ts';
import type { Entry, InputScan } from '../context.ts';
import type { Evidence, Finding, FindingInput, Severity } from '../model.ts';
import { severityRank } from '../model.ts';
import { analyzePython, gradePython, gradeShell, notebookCode, type PyFinding, type PythonAnalysis } from '../python/index.ts';
import { byteOffsets } from '../secrets/index.ts';
import type { TextCheck, TextContext } from './types.ts';

/** Larger Python files are not parsed (error status): model code is far smaller. */
const MAX_PYTHON_CHARS = 8 << 20;
/** Deeper syntax trees than any file CPython accepts (it stops at 200 nested brackets, 100 indents). */
const MAX_TREE_DEPTH = 1500;
const MAX_REMOTE_FILES = 64;
const MAX_REFS = 256;

const CONFIG_NAME = /^(?:config|tokenizer_config|processor_config|preprocessor_config|feature_extractor_config|image_processor_config|video_preprocessor_config)\.json$/;

// ---- Python files and notebooks -------------------------------------------------------------

const pythonCheck: TextCheck = {
  id: 'python',
  applies: (ctx) => ctx.kind === 'python',
  run(ctx) {
    if (!withinLimits(ctx, ctx.text.length)) return;
    const analysis = analyzePython(ctx.text);
    if (!withinDepth(ctx, analysis)) return;
    const byteAt = byteOffsets(ctx.text);
    for (const f of gradePython(analysis)) ctx.input.report(ctx.entry, toFinding(f, f.from === null ? null : byteAt(f.from)));
    if (ctx.entry.depth > 0) archiveCode(ctx.input).add(ctx.entry.path, ctx.text);
  },
};

const notebookCheck: TextCheck = {
  id: 'notebook',
  applies: (ctx) => ctx.kind === 'notebook',
  run(ctx) {
    if (ctx.doc === undefined) {
      ctx.entry.row.status = 'error';
      ctx.input.report(ctx.entry, { ruleId: 'MG-PY-007', message: 'This notebook is not valid JSON (truncated or corrupted); its code cells were not analysed.', evidence: { parsed: false } });
      return;
    }
    const nb = notebookCode(ctx.doc);
    if (!nb) return;
    for (const s of nb.shell.slice(0, 200)) ctx.input.report(ctx.entry, toFinding(gradeShell(s), null));
    if (!withinLimits(ctx, nb.source.length)) return;
    const analysis = analyzePython(nb.source, { notebook: true });
    if (!withinDepth(ctx, analysis)) return;
    const where = (line: number) => {
      const at = nb.locate(line);
      return { label: `cell ${at.cell}, line ${at.line}`, short: `${at.cell}:${at.line}`, evidence: { cell: at.cell, line: at.line } };
    };
    for (const f of gradePython(analysis, { where })) ctx.input.report(ctx.entry, toFinding(f, null));
  },
};

function withinLimits(ctx: TextContext, chars: number): boolean {
  if (chars <= MAX_PYTHON_CHARS) return true;
  ctx.entry.row.status = 'error';
  ctx.input.report(ctx.entry, { ruleId: 'MG-PY-007', message: `Python source of ${chars} characters is over the ${MAX_PYTHON_CHARS}-character analysis limit; it was not analysed.`, evidence: { limit: 'python-size', chars } });
  return false;
}

/** Fail closed on syntax nested deeper than Python allows: the analysis would not be trustworthy. */
function withinDepth(ctx: TextContext, a: PythonAnalysis): boolean {
  if (!a.unparsed && a.maxDepth <= MAX_TREE_DEPTH) return true;
  ctx.entry.row.status = 'error';
  const why = a.unparsed ?? `syntax nested ${a.maxDepth} levels deep, more than Python accepts`;
  ctx.input.report(ctx.entry, { ruleId: 'MG-PY-007', message: `This code was not analysed: ${why}.`, evidence: { limit: 'nesting', depth: a.maxDepth } });
  return false;
}

function toFinding(f: PyFinding, offset: number | null): FindingInput {
  return { ruleId: f.ruleId, severity: f.severity, message: f.message, offset, evidence: f.evidence };
}

// ---- auto_map in configs --------------------------------------------------------------------

interface CodeRef {
  key: string;
  ref: string;
  module?: string;
  repo?: string;
  invalid?: boolean;
}

/** Where the config's sibling files are read from: the folder on disk, or the members of the same archive. */
interface CodeSource {
  /** The file's text, null when it is certainly absent, undefined when it may still arrive (archives). */
  read(rel: string): string | null | undefined;
}

const autoMapCheck: TextCheck = {
  id: 'auto-map',
  applies: (ctx) => ctx.kind === 'json' && CONFIG_NAME.test(ctx.name),
  run(ctx) {
    let doc = ctx.doc;
    if (doc === undefined) doc = parsePythonJson(ctx.text);
    if (doc === undefined) {
      if (/"auto_map"\s*:/.test(ctx.text)) {
        ctx.entry.row.status = 'error';
        ctx.input.report(ctx.entry, { ruleId: 'MG-RC-001', severity: 'high', message: `${ctx.name} mentions auto_map but is not valid JSON; the code it references could not be determined.`, evidence: { parsed: false } });
      }
      return;
    }
    const refs = codeRefs(doc);
    if (refs.length === 0) return;
    const remote = refs.filter((r) => r.repo);
    if (remote.length > 0) {
      const repos = [...new Set(remote.map((r) => r.repo!))];
      ctx.input.report(ctx.entry, {
        ruleId: 'MG-RC-002',
        message: `${ctx.name} makes transformers download and import code from another repository (${repos.map(clip).join(', ')}): ${remote.map((r) => clip(r.ref)).slice(0, 8).join(', ')}. That code is not part of this model and can change independently.`,
        evidence: { repos: repos.map(clip), refs: remote.map((r) => clip(`${r.key}: ${r.ref}`)).slice(0, 50) },
      });
    }
    const analyses = new Map<string, PythonAnalysis>();
    const files = resolveFiles(refs, sourceFor(ctx), analyses);
    const finding = reportAndKeep(ctx.input, ctx.entry, describeRemoteCode(ctx.name, refs, files));
    if (ctx.entry.depth > 0 && finding) {
      // Archive members arrive in archive order: re-judge when a file it waits for arrives after the config.
      archiveCode(ctx.input).waiting.push({ dir: memberDir(ctx.entry), name: ctx.name, refs, finding, analyses, wanted: new Set(files.map((f) => f.path)) });
    }
  },
};

function codeRefs(doc: unknown): CodeRef[] {
  if (!isObject(doc)) return [];
  const refs: CodeRef[] = [];
  const add = (key: string, value: unknown) => {
    if (refs.length >= MAX_REFS) return;
    if (typeof value === 'string') refs.push(parseRef(key, value));
    else if (Array.isArray(value)) for (const v of value.slice(0, 8)) if (typeof v === 'string') refs.push(parseRef(key, v));
  };
  if (isObject(doc.auto_map)) for (const [k, v] of Object.entries(doc.auto_map)) add(k, v);
  if (isObject(doc.custom_pipelines)) {
    for (const [task, p] of Object.entries(doc.custom_pipelines)) if (isObject(p)) add(`custom_pipelines.${task}`, p.impl);
  }
  return refs;
}

function parseRef(key: string, ref: string): CodeRef {
  // transformers: "owner/repo--module.Class" comes from another repository, "module.Class" from this one.
  const dash = ref.indexOf('--');
  const repo = dash >= 0 ? ref.slice(0, dash) : undefined;
  const local = dash >= 0 ? ref.slice(dash + 2) : ref;
  const m = /^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\.([A-Za-z_]\w*)$/.exec(local);
  if (!m) return { key, ref, repo, invalid: true };
  return { key, ref, module: m[1], repo };
}

interface ResolvedFile {
  path: string;
  /** present: analysed; missing: not in the scanned files; pending: an archive member not seen yet. */
  state: 'present' | 'missing' | 'pending';
  worst?: Severity;
  concerns?: string[];
}

/** The referenced modules and, transitively, their relative imports. */
function resolveFiles(refs: CodeRef[], source: CodeSource, analyses: Map<string, PythonAnalysis>): ResolvedFile[] {
  const files = new Map<string, ResolvedFile>();
  const queue: string[] = [];
  const want = (path: string, optional = false): void => {
    if (files.has(path) || files.size >= MAX_REMOTE_FILES) return;
    if (optional && source.read(path) == null) return;
    files.set(path, { path, state: 'missing' });
    queue.push(path);
  };
  for (const r of refs) if (r.module && !r.repo) want(`${r.module.replace(/\./g, '/')}.py`);
  while (queue.length > 0) {
    const path = queue.shift()!;
    const file = files.get(path)!;
    const text = path.startsWith('../') ? null : source.read(path);
    if (text === undefined) file.state = 'pending';
    if (text == null) continue;
    file.state = 'present';
    let analysis = analyses.get(path);
    if (!analysis) analyses.set(path, (analysis = analyzePython(text)));
    const serious = gradePython(analysis).filter((f) => severityRank(f.severity) >= severityRank('high'));
    if (analysis.unparsed || analysis.maxDepth > MAX_TREE_DEPTH) {
      file.worst = 'high';
      file.concerns = [`could not be analysed (${analysis.unparsed ?? 'nested too deeply'})`];
    } else if (serious.length > 0) {
      file.worst = serious.reduce<Severity>((w, f) => (severityRank(f.severity) > severityRank(w) ? f.severity : w), 'high');
      file.concerns = serious.slice(0, 3).map((f) => `${String(f.evidence.call ?? f.ruleId)} ${f.evidence.importTime ? 'at import time' : 'in a function'}, line ${f.line ?? '?'}`);
    }
    for (const imp of analysis.imports) {
      if (imp.level === 0) continue;
      const base = relativeBase(path, imp.level);
      if (imp.module) {
        const mod = `${base}${imp.module.replace(/\./g, '/')}`;
        if (source.read(`${mod}/__init__.py`) != null) want(`${mod}/__init__.py`);
        else want(`${mod}.py`);
      } else for (const n of imp.names) if (n !== '*') want(`${base}${n}.py`, true);
    }
  }
  return [...files.values()];
}

/** Folder prefix for a relative import of `level` dots from `path` ("../" when it leaves the model folder). */
function relativeBase(path: string, level: number): string {
  const parts = path.split('/').slice(0, -1);
  for (let i = 1; i < level; i++) {
    if (parts.length === 0) return '../';
    parts.pop();
  }
  return parts.length ? `${parts.join('/')}/` : '';
}

function describeRemoteCode(configName: string, refs: CodeRef[], files: ResolvedFile[]): FindingInput {
  const missing = files.filter((f) => f.state !== 'present');
  const invalid = refs.filter((r) => r.invalid);
  const repos = [...new Set(refs.filter((r) => r.repo).map((r) => r.repo!))];
  const dangerous = files.filter((f) => f.worst);
  const list = files.map((f) => f.path);
  const imports = [list.length ? `import ${list.join(', ')}` : '', repos.length ? `download and import code from ${repos.map(clip).join(', ')}` : ''].filter(Boolean);
  let message = `Loading this model requires trust_remote_code=True: ${configName} auto_map makes transformers ${imports.join(' and ') || 'import code it does not name properly'}`;
  if (missing.length) message += `; ${missing.map((f) => f.path).join(', ')} ${missing.length > 1 ? 'are' : 'is'} not among the scanned files, so that code cannot be reviewed`;
  if (invalid.length) message += `; malformed reference${invalid.length > 1 ? 's' : ''}: ${invalid.map((r) => JSON.stringify(r.ref).slice(0, 80)).join(', ')}`;
  if (dangerous.length) message += `; ${dangerous.map((f) => `${f.path} has ${f.worst} findings (${f.concerns!.join('; ')})`).join('; ')}`;
  message += '.';
  const severity: Severity = missing.length || invalid.length || repos.length || dangerous.length ? 'high' : 'medium';
  const evidence: Evidence = {
    files: list,
    classes: refs.slice(0, 50).map((r) => clip(`${r.key}: ${r.ref}`)),
    missing: missing.map((f) => f.path),
  };
  if (repos.length) evidence.repos = repos.map(clip);
  if (dangerous.length) evidence.dangerous = dangerous.map((f) => f.path);
  return { ruleId: 'MG-RC-001', severity, message, evidence };
}

function sourceFor(ctx: TextContext): CodeSource {
  if (ctx.entry.depth > 0) {
    const code = archiveCode(ctx.input);
    const dir = memberDir(ctx.entry);
    return { read: (rel) => code.texts.get(dir + rel) };
  }
  if (ctx.entry.source instanceof FileSource) return diskSource(dirname(ctx.entry.source.path));
  return { read: () => null };
}

/** Reads siblings of a config on disk: regular files only (no links), inside the folder, bounded. */
function diskSource(dir: string): CodeSource {
  const root = resolve(dir);
  return {
    read(rel) {
      const full = resolve(root, rel);
      if (!full.startsWith(root + sep)) return null;
      try {
        const st = lstatSync(full);
        if (!st.isFile() || st.size > MAX_PYTHON_CHARS) return null;
        return readFileSync(full, 'utf8');
      } catch {
        return null;
      }
    },
  };
}

// ---- archives: configs and code arrive as members, in any order -----------------------------

interface WaitingConfig {
  dir: string;
  name: string;
  refs: CodeRef[];
  finding: Finding;
  /** Analyses of the files seen so far (texts do not change), and the paths the finding depends on. */
  analyses: Map<string, PythonAnalysis>;
  wanted: Set<string>;
}

class ArchiveCode {
  readonly texts = new Map<string, string>();
  readonly waiting: WaitingConfig[] = [];

  add(path: string, text: string): void {
    this.texts.set(path, text);
    for (const w of this.waiting) {
      const rel = path.startsWith(w.dir) ? path.slice(w.dir.length) : null;
      // Only a file the finding waits for (or a package __init__ that changes how an import resolves) can change it.
      if (rel === null || !(w.wanted.has(rel) || rel.endsWith('/__init__.py') || /^[^/]+\.py$/.test(rel))) continue;
      const source: CodeSource = { read: (r) => this.texts.get(w.dir + r) };
      const files = resolveFiles(w.refs, source, w.analyses);
      w.wanted = new Set(files.map((f) => f.path));
      const next = describeRemoteCode(w.name, w.refs, files);
      Object.assign(w.finding, { message: next.message, severity: next.severity, evidence: next.evidence });
    }
  }
}

/** `outer.zip!repo/` for the member `outer.zip!repo/config.json`. */
function memberDir(entry: Entry): string {
  return entry.path.slice(0, entry.path.length - (entry.name.split('/').pop() ?? '').length);
}

const ARCHIVES = new WeakMap<InputScan, ArchiveCode>();

function archiveCode(input: InputScan): ArchiveCode {
  let a = ARCHIVES.get(input);
  if (!a) ARCHIVES.set(input, (a = new ArchiveCode()));
  return a;
}

/** Reports and returns the stored finding, so it can be updated when more members arrive. */
function reportAndKeep(input: InputScan, entry: Entry, f: FindingInput): Finding | null {
  const before = entry.row.findings.length;
  input.report(entry, f);
  return entry.row.findings.length > before ? entry.row.findings[entry.row.findings.length - 1] : null;
}

// ---- helpers --------------------------------------------------------------------------------

/** Config strings are attacker-controlled: bounded before they reach a message or evidence. */
function clip(s: string): string {
  return s.length > 160 ? `${s.slice(0, 159)}…` : s;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Python's json module writes NaN and Infinity, which JSON.parse rejects; transformers configs can hold them. */
function parsePythonJson(text: string): unknown {
  if (!/NaN|Infinity/.test(text)) return undefined;
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (text.startsWith('NaN', i)) {
      out += 'null';
      i += 2;
    } else if (text.startsWith('-Infinity', i)) {
      out += 'null';
      i += 8;
    } else if (text.startsWith('Infinity', i)) {
      out += 'null';
      i += 7;
    } else out += c;
  }
  try {
    return JSON.parse(out);
  } catch {
    return undefined;
  }
}

export const remoteCodeChecks: TextCheck[] = [autoMapCheck, pythonCheck, notebookCheck];
