// Turns what Python code can do into findings: the rule and severity follow the capability and WHEN
// it runs (import time is worst: transformers imports remote code while loading the model).
import type { Evidence, Severity } from '../model.ts';
import { redactSecrets } from '../secrets/index.ts';
import type { PyBehaviour, PythonAnalysis, When } from './analyze.ts';
import type { Category } from './catalog.ts';
import type { ShellEscape } from './notebook.ts';

export interface PyFinding {
  ruleId: string;
  severity: Severity;
  message: string;
  /** Character offset in the analysed source of the first occurrence, when there is one. */
  from: number | null;
  line: number | null;
  evidence: Evidence;
}

export interface GradeOptions {
  /** How a line of the analysed source is shown ("line 4", "cell 3, line 2"). */
  where?: (line: number) => { label: string; short: string; evidence: Evidence };
}

const VERB: Record<Category, (b: PyBehaviour) => string> = {
  process: (b) => `starts a process with ${b.name}`,
  network: (b) => `opens a network connection with ${b.name}`,
  file: (b) => `writes or deletes files with ${b.name}${b.detail ? ` (${b.detail})` : ''}`,
  dynamic: (b) => `runs dynamically built or imported code with ${b.name}${b.detail ? ` (${b.detail})` : ''}`,
  native: (b) => `loads or compiles native code with ${b.name}`,
  loader: (b) => `deserializes a file with ${b.name}, which can run code from that file`,
  hijack: (b) => `replaces modules, import hooks or builtins (${b.name}${b.detail ? `: ${b.detail}` : ''})`,
  env: (b) => (b.detail ? `${b.detail} (${b.name})` : `reads the credential ${b.name}`),
  credentials: (b) => `refers to the credential file "${b.name}"`,
  obfuscated: (b) => `runs code ${b.detail ?? 'decoded at run time'} with ${b.name}`,
};

const MAX_GROUPS = 100;

const WHEN: Record<When, string> = {
  import: 'at import time',
  function: 'inside a function (runs when it is called)',
  main: 'in its `if __name__ == "__main__"` block (runs when executed as a script)',
  notebook: 'when the notebook is run',
};

function grade(b: PyBehaviour): { ruleId: string; severity: Severity } {
  const atImport = b.when === 'import';
  switch (b.category) {
    case 'obfuscated':
      return { ruleId: 'MG-PY-004', severity: 'critical' };
    case 'process':
    case 'dynamic':
    case 'native':
    case 'hijack':
      return atImport ? { ruleId: 'MG-PY-001', severity: 'critical' } : { ruleId: 'MG-PY-002', severity: 'high' };
    case 'network':
      return atImport ? { ruleId: 'MG-PY-001', severity: 'critical' } : { ruleId: 'MG-PY-003', severity: 'medium' };
    case 'file':
    case 'loader':
      return { ruleId: 'MG-PY-003', severity: atImport ? 'high' : 'medium' };
    case 'env':
    case 'credentials':
      return { ruleId: 'MG-PY-005', severity: atImport ? 'high' : 'medium' };
  }
}

export function gradePython(a: PythonAnalysis, opts: GradeOptions = {}): PyFinding[] {
  const where = opts.where ?? ((line: number) => ({ label: `line ${line}`, short: String(line), evidence: { line } }));
  const out: PyFinding[] = [];
  // One finding per capability, callee, context and function; the evidence lists every line. A file
  // with very many is grouped without the function, so the report stays readable.
  const group = (byFunction: boolean) => {
    const groups = new Map<string, PyBehaviour[]>();
    for (const b of a.behaviours) {
      const key = `${b.category}\0${b.name}\0${b.when}\0${byFunction ? (b.fn ?? '') : ''}`;
      const g = groups.get(key);
      if (g) g.push(b);
      else groups.set(key, [b]);
    }
    return groups;
  };
  let groups = group(true);
  if (groups.size > MAX_GROUPS) groups = group(false);
  for (const list of [...groups.values()].slice(0, MAX_GROUPS)) {
    const b = list[0];
    const { ruleId, severity } = grade(b);
    const at = where(b.line);
    const more = list.length > 1 ? ` and ${list.length - 1} more` : '';
    const fns = new Set(list.map((x) => x.fn));
    const context = b.when === 'function' && b.fn && fns.size === 1 ? `inside ${b.fn}() (runs when it is called)` : WHEN[b.when];
    const via = b.via ? `, because ${b.via}` : '';
    const evidence: Evidence = {
      category: b.category,
      call: b.name,
      ...at.evidence,
      lines: list.slice(0, 20).map((x) => where(x.line).short).join(', '),
      count: list.length,
      importTime: b.when === 'import',
      runs: b.when,
      code: redactSecrets(b.snippet, { bareValues: false }),
    };
    if (b.fn && fns.size === 1) evidence.function = b.fn;
    if (b.via) evidence.via = b.via;
    if (b.detail) evidence.detail = b.detail;
    out.push({ ruleId, severity, message: `This code ${VERB[b.category](b)} ${context}${via} (${at.label}${more}).`, from: b.from, line: b.line, evidence });
  }
  if (a.sensitiveImports.length > 0) {
    out.push({
      ruleId: 'MG-PY-006',
      severity: 'low',
      message: `Imports modules that can run commands, reach the network or load code: ${a.sensitiveImports.join(', ')}.`,
      from: null,
      line: null,
      evidence: { modules: a.sensitiveImports },
    });
  }
  if (a.errorLines.length > 0) {
    const first = where(a.errorLines[0]);
    out.push({
      ruleId: 'MG-PY-007',
      severity: 'medium',
      message: `Part of this code could not be parsed (first at ${first.label}); what it does there was not analysed.`,
      from: null,
      line: a.errorLines[0],
      evidence: { ...first.evidence, errorLines: a.errorLines.slice(0, 20).map((l) => where(l).short).join(', '), count: a.errorLines.length },
    });
  }
  if (a.truncated) {
    out.push({ ruleId: 'MG-PY-007', severity: 'medium', message: 'Some expressions are nested too deeply to resolve; calls inside them were not analysed.', from: null, line: null, evidence: { limit: 'expression-depth' } });
  }
  return out;
}

const INSTALL = /^(?:pip3?|python3?\s+-m\s+pip|conda|mamba|micromamba|uv\s+pip|apt(?:-get)?)\s+install\b/;
const OFF_INDEX = /git\+|https?:\/\/|--index-url|--extra-index-url|(?:^|\s)-i\s|--trusted-host|\.whl\b|\.tar\.gz\b|\.zip\b/;
const DANGEROUS_SHELL =
  /\b(?:curl|wget)\b[^|;&\n]*\|\s*(?:sudo\s+)?(?:ba|z|da|k)?sh\b|\brm\s+-[a-zA-Z]*[rf][a-zA-Z]*\s+(?:\/|~|\*|\$HOME)|\bnc\b|\bncat\b|\/dev\/tcp\/|base64\s+(?:-d|--decode)|\bmkfifo\b|\bcrontab\b|authorized_keys|\bchmod\s+(?:[ugoa]*\+x|[0-7]*7[0-7]{2})\b|\bpython3?\s+-c\b|\beval\b|\bsudo\b/;

export function gradeShell(s: ShellEscape): PyFinding {
  const command = redactSecrets(s.command.replace(/\s+/g, ' ').trim(), { bareValues: true });
  const shown = command.length > 160 ? `${command.slice(0, 159)}…` : command;
  const evidence: Evidence = { cell: s.cell, line: s.line, magic: s.magic, command: shown };
  const at = `cell ${s.cell}, line ${s.line}`;
  if (DANGEROUS_SHELL.test(s.command)) {
    return { ruleId: 'MG-PY-008', severity: 'high', message: `The notebook runs a shell command that downloads and runs code, deletes files, opens connections or escalates privileges (${at}): ${shown}`, from: null, line: null, evidence };
  }
  if (INSTALL.test(s.command)) {
    const offIndex = OFF_INDEX.test(s.command);
    return {
      ruleId: 'MG-PY-008',
      severity: offIndex ? 'medium' : 'low',
      message: offIndex ? `The notebook installs packages from outside the package index (${at}): ${shown}` : `The notebook installs packages (${at}): ${shown}`,
      from: null,
      line: null,
      evidence,
    };
  }
  const what = s.magic === '%%writefile' ? 'writes a file' : s.magic === '%run' || s.magic === '%load' ? 'runs or loads another script' : 'runs a shell command';
  return { ruleId: 'MG-PY-008', severity: 'medium', message: `The notebook ${what} (${at}): ${shown}`, from: null, line: null, evidence };
}
