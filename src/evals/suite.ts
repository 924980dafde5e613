// Suites: parse (YAML or JSON), validate, digest (SHA-256 of canonical JSON) and render `{{vars}}`.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ModelgateError } from '../scan/model.ts';
import { BUILTIN_SUITE_FILES } from './suites/builtin.generated.ts';
import type { Assertion, ChatMessage, EvalCase, LoadedSuite, Suite } from './types.ts';

const ASSERTION_TYPES = new Set(['contains', 'not-contains', 'icontains', 'not-icontains', 'regex', 'not-regex', 'canary', 'json-schema', 'tool-call', 'refusal', 'not-refusal', 'no-system-prompt-leak', 'llm-judge']);

/** Canonical JSON: object keys sorted, no whitespace. Equal content ⇒ equal digest, whatever the YAML layout. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}

export function suiteDigest(suite: Suite): string {
  return createHash('sha256').update(canonicalJson(suite)).digest('hex');
}

/** Parses and validates suite text; `origin` names it in error messages. */
export function parseSuite(text: string, origin: string): LoadedSuite {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new ModelgateError('SUITE_INVALID', `${origin}: not valid YAML/JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  const suite = validateSuite(raw, origin);
  return { suite, digest: suiteDigest(suite), origin };
}

function fail(origin: string, msg: string): never {
  throw new ModelgateError('SUITE_INVALID', `${origin}: ${msg}`);
}

function validateSuite(raw: unknown, origin: string): Suite {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) fail(origin, 'a suite is a mapping with id, version and cases');
  const s = raw as Record<string, unknown>;
  if (typeof s.id !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/i.test(s.id)) fail(origin, '"id" must be a word (letters, digits, . _ -)');
  if (typeof s.version !== 'string' && typeof s.version !== 'number') fail(origin, '"version" is required (e.g. "1.0.0")');
  s.version = String(s.version);
  if (!Array.isArray(s.cases) || s.cases.length === 0) fail(origin, '"cases" must be a non-empty list');
  const ids = new Set<string>();
  s.cases.forEach((c: unknown, i: number) => {
    const where = `case ${i + 1}`;
    if (!c || typeof c !== 'object') fail(origin, `${where} is not a mapping`);
    const k = c as Record<string, unknown>;
    if (typeof k.id !== 'string' || !k.id) fail(origin, `${where} needs an "id"`);
    if (ids.has(k.id)) fail(origin, `duplicate case id "${k.id}"`);
    ids.add(k.id);
    if (k.prompt === undefined && k.messages === undefined) fail(origin, `case "${k.id}" needs "prompt" or "messages"`);
    if (k.messages !== undefined && !Array.isArray(k.messages)) fail(origin, `case "${k.id}": "messages" must be a list`);
    const asserts = [...((k.assert as unknown[]) ?? []), ...((s.defaultAssert as unknown[]) ?? [])];
    if (asserts.length === 0) fail(origin, `case "${k.id}" has no assertions (and the suite no defaultAssert)`);
    for (const a of asserts) {
      const t = (a as { type?: unknown })?.type;
      if (typeof t !== 'string' || !ASSERTION_TYPES.has(t)) fail(origin, `case "${k.id}": unknown assertion type "${String(t)}" (known: ${[...ASSERTION_TYPES].join(', ')})`);
      if (t === 'llm-judge' && typeof (a as { rubric?: unknown }).rubric !== 'string') fail(origin, `case "${k.id}": llm-judge needs a "rubric"`);
      if (t === 'json-schema' && typeof (a as { schema?: unknown }).schema !== 'object') fail(origin, `case "${k.id}": json-schema needs a "schema" mapping`);
    }
  });
  return s as unknown as Suite;
}

/** Names of the built-in suites. */
export function builtinSuiteIds(): string[] {
  return Object.keys(BUILTIN_SUITE_FILES).map((f) => f.replace(/\.ya?ml$/, '')).sort();
}

/** Loads a built-in suite by name or a custom suite from a .yaml/.json file path. */
export function loadSuite(nameOrPath: string): LoadedSuite {
  const file = `${nameOrPath}.yaml`;
  if (Object.hasOwn(BUILTIN_SUITE_FILES, file)) return parseSuite(BUILTIN_SUITE_FILES[file], `builtin:${nameOrPath}`);
  if (!/[./\\]/.test(nameOrPath)) throw new ModelgateError('USAGE', `unknown suite "${nameOrPath}" (built-in: ${builtinSuiteIds().join(', ')}; or give a .yaml file)`);
  let text: string;
  try {
    text = readFileSync(nameOrPath, 'utf8');
  } catch (e) {
    throw new ModelgateError('USAGE', `cannot read suite ${nameOrPath}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseSuite(text, nameOrPath);
}

/** Replaces `{{name}}` with vars[name]; unknown names stay as they are. */
export function render(text: string, vars: Record<string, string>): string {
  return text.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (m, k: string) => (Object.hasOwn(vars, k) ? vars[k] : m));
}

export function renderDeep<T>(v: T, vars: Record<string, string>): T {
  if (typeof v === 'string') return render(v, vars) as T;
  if (Array.isArray(v)) return v.map((x) => renderDeep(x, vars)) as T;
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, renderDeep(x, vars)])) as T;
  return v;
}

export interface BuiltCase {
  messages: ChatMessage[];
  system: string | undefined;
  vars: Record<string, string>;
  assertions: Assertion[];
}

/** Renders a case into the messages sent to the model, with the suite's and the case's variables. */
export function buildCase(suite: Suite, c: EvalCase, appSystemPrompt: string | undefined): BuiltCase {
  const vars: Record<string, string> = { app_system_prompt: appSystemPrompt ?? 'You are a helpful assistant for ACME Corp customers.', ...(suite.vars ?? {}) };
  for (const [k, v] of Object.entries(c.vars ?? {})) vars[k] = render(String(v), vars);
  for (const k of Object.keys(vars)) vars[k] = render(vars[k], vars);
  const systemTpl = c.system ?? suite.system;
  const system = systemTpl !== undefined ? render(systemTpl, vars) : appSystemPrompt;
  vars.system_prompt = system ?? '';
  const messages: ChatMessage[] = [];
  if (system) messages.push({ role: 'system', content: system });
  for (const m of c.messages ?? []) messages.push(renderDeep(m, vars));
  if (c.prompt !== undefined) messages.push({ role: 'user', content: render(c.prompt, vars) });
  return { messages, system, vars, assertions: renderDeep([...(c.assert ?? []), ...(suite.defaultAssert ?? [])], vars) };
}
