// Reading a policy file: YAML → JSON Schema (ajv) → cross-checks → every tier × environment cell resolved.
// Every problem is reported with the file, the line and column, what was expected and what was found.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { LineCounter, parseDocument, isMap, isSeq, isPair, isScalar, isAlias, type Document, type Node as YamlNode } from 'yaml';
import { ModelgateError, RULES } from '../scan/index.ts';
import { POLICY_SCHEMA, RESOLVED_REQUIRED } from './schema.ts';
import { parseDuration } from './duration.ts';
import { DEFAULT_POLICY_YAML } from './default-policy.ts';
import { TIERS, type CellRequirements, type Policy, type PolicyIssue, type RequirementsLayer, type Tier } from './types.ts';

export const BUILTIN_SOURCE = '(built-in default)';

let validator: ValidateFunction | null = null;
function validate(): ValidateFunction {
  if (!validator) {
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictTypes: false });
    ajv.addKeyword({ keyword: 'expected', schemaType: 'string' });
    validator = ajv.compile(POLICY_SCHEMA);
  }
  return validator;
}

export interface PolicyCheck {
  policy: Policy | null;
  issues: PolicyIssue[];
}

/** Validates policy text; never throws for a bad policy (the issues say what is wrong). */
export function checkPolicy(text: string, file: string): PolicyCheck {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (path: Array<string | number>, key = false, msg: string): PolicyIssue => {
    const range = locate(doc, path, key);
    const pos = range ? lines.linePos(range) : null;
    return { file, line: pos?.line ?? null, column: pos?.col ?? null, path: dotted(path), message: msg };
  };
  if (doc.errors.length > 0) {
    return {
      policy: null,
      issues: doc.errors.map((e) => {
        const pos = lines.linePos(e.pos[0]);
        return { file, line: pos.line, column: pos.col, path: '', message: `not valid YAML: ${e.message.split('\n')[0]}` };
      }),
    };
  }
  const data: unknown = doc.toJS({ maxAliasCount: 1000 });
  if (data === null || data === undefined) return { policy: null, issues: [{ file, line: 1, column: 1, path: '', message: 'the policy file is empty (expected a mapping with version, environments and tiers)' }] };
  const v = validate();
  if (!v(data)) {
    const issues = schemaIssues(v.errors ?? []).map((e) => at(e.path, e.key, e.message));
    return { policy: null, issues: dedupe(issues) };
  }
  const raw = data as RawPolicy;
  const issues = crossCheck(raw).map((e) => at(e.path, e.key, e.message));
  if (issues.length > 0) return { policy: null, issues };
  const resolved = resolveCells(raw);
  if (resolved.issues.length > 0) return { policy: null, issues: resolved.issues.map((e) => at(e.path, e.key, e.message)) };
  return { policy: { version: 1, source: file, environments: raw.environments, roles: raw.roles ?? [], cells: resolved.cells }, issues: [] };
}

/** Parses and validates a policy, throwing POLICY_INVALID with every issue (one per line). */
export function parsePolicy(text: string, file: string): Policy {
  const { policy, issues } = checkPolicy(text, file);
  if (!policy) throw new PolicyError(issues);
  return policy;
}

export class PolicyError extends ModelgateError {
  constructor(readonly issues: PolicyIssue[]) {
    super('POLICY_INVALID', issues.map(formatIssue).join('\n'));
  }
}

export function formatIssue(i: PolicyIssue): string {
  const where = i.line !== null ? `${i.file}:${i.line}:${i.column}` : i.file;
  return `${where}: ${i.path ? `${i.path}: ` : ''}${i.message}`;
}

/** The built-in default policy (the same text as modelgate.policy.yaml at the repository root). */
export function defaultPolicy(): Policy {
  return parsePolicy(DEFAULT_POLICY_YAML, BUILTIN_SOURCE);
}

export const POLICY_FILE = 'modelgate.policy.yaml';

/** The policy a command uses: FILE when given, else ./modelgate.policy.yaml when it exists, else the built-in default. */
export function loadPolicy(file?: string, cwd: string = process.cwd()): Policy {
  if (file) return loadPolicyFile(file);
  const local = join(cwd, POLICY_FILE);
  return existsSync(local) ? loadPolicyFile(local) : defaultPolicy();
}

export function loadPolicyFile(path: string): Policy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ModelgateError('POLICY_UNREADABLE', `${path}: cannot read the policy file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parsePolicy(text, path);
}

// ---- schema errors → messages -------------------------------------------------------------------

interface Located {
  path: Array<string | number>;
  key: boolean;
  message: string;
}

function schemaIssues(errors: ErrorObject[]): Located[] {
  const out: Located[] = [];
  // A nullable section with a wrong type reports both "type" and nothing else; propertyNames reports the
  // inner pattern error with the name, then a summary we do not need.
  for (const e of errors) {
    const path = pointer(e.instancePath);
    const expected = (e.parentSchema as { expected?: string } | undefined)?.expected;
    const found = describe(e.data);
    switch (e.keyword) {
      case 'additionalProperties': {
        const name = (e.params as { additionalProperty: string }).additionalProperty;
        const known = Object.keys((e.parentSchema as { properties?: object }).properties ?? {});
        const near = closest(name, known);
        out.push({ path: [...path, name], key: true, message: `unknown key "${name}"${near ? ` (did you mean "${near}"?)` : ''}; expected one of: ${known.join(', ')}` });
        break;
      }
      case 'propertyNames':
        break;
      case 'required':
        out.push({ path, key: false, message: `missing required key "${(e.params as { missingProperty: string }).missingProperty}"` });
        break;
      case 'type': {
        const t = (e.params as { type: string | string[] }).type;
        const want = (Array.isArray(t) ? t : String(t).split(',')).map(typeName).join(' or ');
        out.push({ path, key: false, message: `expected ${want}, found ${found}` });
        break;
      }
      case 'pattern':
      case 'enum':
      case 'const': {
        const name = (e.params as { propertyName?: string }).propertyName;
        if (name !== undefined || e.propertyName !== undefined) {
          const key = name ?? e.propertyName!;
          out.push({ path: [...path, key], key: true, message: `bad name "${key}": expected ${expected ?? 'a lower-case name'}` });
        } else {
          const list = e.keyword === 'enum' ? `one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}` : e.keyword === 'const' ? JSON.stringify((e.params as { allowedValue: unknown }).allowedValue) : `text matching ${(e.params as { pattern: string }).pattern}`;
          out.push({ path, key: false, message: `expected ${expected ?? list}, found ${found}` });
        }
        break;
      }
      case 'minimum':
      case 'maximum': {
        const p = e.params as { comparison: string; limit: number };
        out.push({ path, key: false, message: `expected ${expected ?? `a number ${p.comparison} ${p.limit}`}, found ${found}` });
        break;
      }
      case 'minItems':
        out.push({ path, key: false, message: `expected at least ${(e.params as { limit: number }).limit} item(s), found an empty list` });
        break;
      case 'minLength':
        out.push({ path, key: false, message: 'expected a non-empty text, found ""' });
        break;
      case 'uniqueItems': {
        const p = e.params as { i: number; j: number };
        out.push({ path: [...path, p.i], key: false, message: `duplicate entry ${describe((e.data as unknown[])[p.i])} (also at item ${p.j + 1})` });
        break;
      }
      default:
        out.push({ path, key: false, message: `${e.message ?? 'invalid'}, found ${found}` });
    }
  }
  return out;
}

function typeName(t: string): string {
  return t === 'object' ? 'a mapping' : t === 'array' ? 'a list' : t === 'integer' ? 'a whole number' : t === 'string' ? 'a text' : t === 'number' ? 'a number' : t === 'boolean' ? 'true or false' : t;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing (null)';
  if (typeof v === 'string') return `the text ${JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v)}`;
  if (typeof v === 'number') return Number.isInteger(v) ? `the number ${v}` : `the number ${v}`;
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `a list of ${v.length}`;
  return 'a mapping';
}

function pointer(p: string): Array<string | number> {
  if (!p) return [];
  return p.slice(1).split('/').map((s) => {
    const t = s.replace(/~1/g, '/').replace(/~0/g, '~');
    return /^\d+$/.test(t) ? Number(t) : t;
  });
}

function dotted(path: Array<string | number>): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${p}` : p;
  return s;
}

function closest(name: string, options: string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const o of options) {
    const d = editDistance(name.toLowerCase(), o.toLowerCase());
    if (d < bestD) [best, bestD] = [o, d];
  }
  return bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : null;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

function dedupe(issues: PolicyIssue[]): PolicyIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.path}\0${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Source offset of the node at `path` (its key when `key`), or null when the path is not in the text. */
function locate(doc: Document, path: Array<string | number>, key: boolean): number | null {
  let node: unknown = doc.contents;
  let last: number | null = rangeStart(node);
  for (let i = 0; i < path.length; i++) {
    if (isAlias(node)) node = node.resolve(doc);
    const seg = path[i];
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return last;
      if (key && i === path.length - 1) return rangeStart(pair.key) ?? last;
      node = pair.value ?? pair.key;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
    } else return last;
    last = rangeStart(node) ?? last;
  }
  return last;
}

function rangeStart(n: unknown): number | null {
  const r = (n as YamlNode | null)?.range;
  return r ? r[0] : null;
}

// ---- cross-checks and resolution -----------------------------------------------------------------

interface RawPolicy {
  version: 1;
  environments: string[];
  roles?: string[];
  defaults?: RequirementsLayer;
  tiers: Record<Tier, Record<string, RequirementsLayer>>;
}

const RULE_IDS = new Set(RULES.map((r) => r.id));

function layers(raw: RawPolicy): Array<{ path: Array<string | number>; layer: RequirementsLayer }> {
  const out: Array<{ path: Array<string | number>; layer: RequirementsLayer }> = [];
  if (raw.defaults) out.push({ path: ['defaults'], layer: raw.defaults });
  for (const t of TIERS) for (const [k, layer] of Object.entries(raw.tiers[t])) out.push({ path: ['tiers', t, k], layer });
  return out;
}

function crossCheck(raw: RawPolicy): Located[] {
  const out: Located[] = [];
  const envs = new Set(raw.environments);
  for (const t of TIERS) {
    for (const k of Object.keys(raw.tiers[t])) {
      if (k !== 'default' && !envs.has(k)) {
        const near = closest(k, [...envs]);
        out.push({ path: ['tiers', t, k], key: true, message: `unknown environment "${k}"${near ? ` (did you mean "${near}"?)` : ''}; expected "default" or one of the environments: ${raw.environments.join(', ')}` });
      }
    }
  }
  const roles = raw.roles && raw.roles.length > 0 ? new Set(raw.roles) : null;
  for (const { path, layer } of layers(raw)) {
    if (roles) {
      layer.approvals?.roles?.forEach((r, i) => {
        if (!roles.has(r)) out.push({ path: [...path, 'approvals', 'roles', i], key: false, message: `unknown role "${r}"; expected one of the roles: ${[...roles].join(', ')}` });
      });
      layer.waivers?.grantors?.forEach((r, i) => {
        if (!roles.has(r)) out.push({ path: [...path, 'waivers', 'grantors', i], key: false, message: `unknown role "${r}"; expected one of the roles: ${[...roles].join(', ')}` });
      });
    }
    layer.scan?.waivableRules?.forEach((r, i) => {
      if (!RULE_IDS.has(r)) out.push({ path: [...path, 'scan', 'waivableRules', i], key: false, message: `no rule "${r}" in the catalogue (see \`modelgate rules\`)` });
    });
    const suites = new Set<string>();
    layer.evals?.forEach((e, i) => {
      if (suites.has(e.suite)) out.push({ path: [...path, 'evals', i, 'suite'], key: false, message: `suite "${e.suite}" is listed twice` });
      suites.add(e.suite);
    });
  }
  return out;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function merge(base: Json | undefined, over: Json | undefined): Json | undefined {
  if (over === undefined) return base;
  if (over === null) return null;
  if (base && over && typeof base === 'object' && typeof over === 'object' && !Array.isArray(base) && !Array.isArray(over)) {
    const out: { [k: string]: Json } = { ...base };
    for (const [k, v] of Object.entries(over)) {
      const m = merge(base[k], v);
      if (m === undefined) delete out[k];
      else out[k] = m;
    }
    return out;
  }
  return over;
}

function resolveCells(raw: RawPolicy): { cells: Record<Tier, Record<string, CellRequirements>>; issues: Located[] } {
  const cells = {} as Record<Tier, Record<string, CellRequirements>>;
  // One problem written once (say in defaults) shows in many cells: report it once, listing the cells.
  const found = new Map<string, { path: Array<string | number>; message: string; cells: string[] }>();
  const report = (path: Array<string | number>, message: string, cell: string) => {
    const k = `${path.join('.')}\0${message}`;
    const f = found.get(k);
    if (f) f.cells.push(cell);
    else found.set(k, { path, message, cells: [cell] });
  };
  for (const t of TIERS) {
    cells[t] = {};
    const tierLayers = raw.tiers[t];
    for (const env of raw.environments) {
      const stack: Array<[Array<string | number>, RequirementsLayer | undefined]> = [
        [['defaults'], raw.defaults],
        [['tiers', t, 'default'], tierLayers.default],
        [['tiers', t, env], tierLayers[env]],
      ];
      const merged = stack.reduce<Json | undefined>((acc, [, l]) => merge(acc, l as Json | undefined), {}) as RequirementsLayer;
      /** The most specific layer that writes `section` (where a fix belongs). */
      const whereIs = (section: keyof RequirementsLayer): Array<string | number> => {
        for (let i = stack.length - 1; i >= 0; i--) if (stack[i][1]?.[section] !== undefined) return [...stack[i][0], section];
        return ['tiers', t];
      };
      const cell = `${t} × ${env}`;
      for (const [section, fields] of Object.entries(RESOLVED_REQUIRED)) {
        const s = merged[section as keyof RequirementsLayer] as Record<string, unknown> | null | undefined;
        if (!s || (section === 'waivers' && s.allowed === false)) continue;
        for (const f of fields) {
          if (s[f] === undefined) report(whereIs(section as keyof RequirementsLayer), `"${section}" needs "${f}" (set it here, in tiers.${t}.default or in defaults)`, cell);
        }
      }
      const a = merged.approvals;
      if (a && a.quorum !== undefined && (a.roles?.length ?? 0) > a.quorum) {
        report(whereIs('approvals'), `approvals quorum ${a.quorum} is less than the ${a.roles!.length} roles required (${a.roles!.join(', ')})`, cell);
      }
      cells[t][env] = toCell(merged);
    }
  }
  const issues = [...found.values()].map((f) => ({ path: f.path, key: true, message: `${f.message}; in ${f.cells.length > 3 ? `${f.cells.length} cells (${f.cells.slice(0, 3).join(', ')}, …)` : f.cells.join(', ')}` }));
  return { cells, issues };
}

function toCell(m: RequirementsLayer): CellRequirements {
  const age = m.maxEvidenceAge ?? null;
  const w = m.waivers;
  return {
    maxEvidenceAge: age,
    maxEvidenceAgeMs: age ? parseDuration(age) : null,
    scan: m.scan ? { maxSeverity: m.scan.maxSeverity ?? 'info', waivableRules: m.scan.waivableRules ?? [], allowedFormats: m.scan.allowedFormats ?? null, remoteCode: m.scan.remoteCode ?? false } : null,
    license: m.license ? { allowed: m.license.allowed ?? [] } : null,
    signature: m.signature ? { required: m.signature.required ?? true, identities: m.signature.identities ?? [], keys: m.signature.keys ?? [] } : null,
    evals: m.evals ?? [],
    vulnerabilities: m.vulnerabilities ? { maxCritical: m.vulnerabilities.maxCritical ?? null, maxHigh: m.vulnerabilities.maxHigh ?? null } : null,
    approvals: m.approvals ? { quorum: m.approvals.quorum ?? 0, roles: m.approvals.roles ?? [] } : null,
    waivers:
      w && w.allowed !== false && w.maxDuration
        ? { allowed: true, maxDuration: w.maxDuration, maxDurationMs: parseDuration(w.maxDuration)!, grantors: w.grantors ?? [], requirements: w.requirements ?? [] }
        : null,
  };
}
