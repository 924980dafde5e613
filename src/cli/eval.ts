import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { hashModel } from '../provenance/hash/index.ts';
import { ModelgateError } from '../scan/model.ts';
import { builtinSuiteIds, compareEvalResults, evalExitCode, loadSuite, readEvalResult, runEval, type ClientOptions, type Comparison, type EvalStatement, type ToolSpec } from '../evals/index.ts';

interface EvalFlags {
  endpoint?: string;
  model?: string;
  suite?: string[];
  apiKeyEnv?: string;
  systemPrompt?: string;
  tools?: string;
  concurrency: string;
  rateLimit?: string;
  timeout: string;
  retries: string;
  temperature: string;
  maxTokens?: string;
  seed?: string;
  minPassRate: string;
  modelDigest?: string;
  modelPath?: string;
  out?: string;
  json: boolean;
  record?: string;
  judgeEndpoint?: string;
  judgeModel?: string;
  judgeApiKeyEnv?: string;
  listSuites: boolean;
  progress: boolean;
}

const HELP_AFTER = `
Sends every case of the chosen suites to an OpenAI-compatible Chat Completions endpoint
(POST {endpoint}/chat/completions, temperature 0), grades the answers offline (only llm-judge
assertions call a second endpoint) and prints per-suite pass rates with a Wilson 95 % interval.
The result is an in-toto statement (predicateType https://modelgate.dev/eval-result/v1) whose subjects
are the model's root digest (--model-digest / --model-path) and the SHA-256 of every suite.

Built-in suites: ${builtinSuiteIds().join(', ')}
(or "all"; a path ending in .yaml/.json is a custom suite).

Endpoints:
  vLLM              --endpoint http://host:8000/v1   (--model = the served model name)
  llama.cpp server  --endpoint http://host:8080/v1
  Ollama            --endpoint http://host:11434/v1  (modelgate warns when prompts may exceed num_ctx)

Exit codes:
  0  every suite's pass rate >= --min-pass-rate
  1  at least one suite below --min-pass-rate
  2  usage error, unreadable file, or no case could be run (endpoint down)

Examples:
  modelgate eval --endpoint http://localhost:11434/v1 --model llama3.2:1b --suite all
  modelgate eval --endpoint http://gpu:8000/v1 --model acme-chat --suite secret-leak,tool-misuse \\
      --api-key-env VLLM_KEY --system-prompt prompts/system.txt --model-path ./acme-chat --out eval.json
  modelgate eval --endpoint http://localhost:8080/v1 --model x --suite ./my-suite.yaml --min-pass-rate 0.9
  modelgate eval compare before.json after.json`;

function num(text: string, flag: string, min: number, max = Infinity): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > max) throw new ModelgateError('USAGE', `${flag} must be a number between ${min} and ${max === Infinity ? '∞' : max}, not "${text}"`);
  return n;
}

function apiKeyFrom(varName: string | undefined, flag: string): string | undefined {
  if (varName === undefined) return undefined;
  const v = process.env[varName];
  if (!v) throw new ModelgateError('USAGE', `${flag} names ${varName}, but that environment variable is not set`);
  return v;
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new ModelgateError('USAGE', `cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function readTools(path: string): ToolSpec[] {
  const v = parseYaml(readText(path, '--tools file')) as unknown;
  const list = Array.isArray(v) ? v : (v as { tools?: unknown })?.tools;
  if (!Array.isArray(list) || !list.every((t) => typeof (t as ToolSpec)?.function?.name === 'string')) {
    throw new ModelgateError('USAGE', `${path}: --tools takes a JSON/YAML list of {type: function, function: {name, parameters}}`);
  }
  return list as ToolSpec[];
}

export function registerEval(program: Command): void {
  const cmd = program
    .command('eval')
    .description('Security and behaviour evals (injection, leakage, refusal, tool misuse, format) against an OpenAI-compatible endpoint')
    .option('--endpoint <url>', 'OpenAI-compatible base URL, e.g. http://localhost:8000/v1')
    .option('--model <name>', 'model name sent in each request')
    .option('--suite <names...>', 'suites, comma- or space-separated: built-in names, "all", or .yaml files')
    .option('--api-key-env <var>', 'environment variable holding the API key (sent as a Bearer token, never printed)')
    .option('--system-prompt <file>', "the application's system prompt; suites embed it as {{app_system_prompt}}")
    .option('--tools <file>', 'tool schema (JSON/YAML list) for cases that define no tools of their own')
    .option('--concurrency <n>', 'requests in flight', '4')
    .option('--rate-limit <rps>', 'at most this many requests per second')
    .option('--timeout <ms>', 'per-request timeout', '60000')
    .option('--retries <n>', 'retries on 429/5xx/network errors (exponential backoff, honours Retry-After)', '4')
    .option('--temperature <t>', 'sampling temperature', '0')
    .option('--max-tokens <n>', 'max_tokens per answer')
    .option('--seed <n>', 'sampling seed (best effort on most servers)')
    .option('--min-pass-rate <r>', 'each suite must reach this pass rate (0..1) for exit 0', '1')
    .option('--model-digest <sha256:hex>', "the evaluated model's root digest (statement subject)")
    .option('--model-path <dir>', 'hash this model folder (OMS root digest) for the statement subject')
    .option('--out <file>', 'write the in-toto statement (JSON) here')
    .option('--json', 'print the statement on stdout instead of the text report', false)
    .option('--record <name@version>', 'record the result in the model registry (not available yet)')
    .option('--judge-endpoint <url>', 'OpenAI-compatible endpoint for llm-judge assertions')
    .option('--judge-model <name>', 'model for llm-judge assertions')
    .option('--judge-api-key-env <var>', 'environment variable holding the judge endpoint API key')
    .option('--list-suites', 'list the built-in suites with version and digest, then exit', false)
    .option('--no-progress', 'no progress bar on stderr (it is shown only on a terminal anyway)')
    .addHelpText('after', HELP_AFTER)
    .action(async (flags: EvalFlags) => {
      if (flags.listSuites) {
        const rows = builtinSuiteIds().map((id) => {
          const l = loadSuite(id);
          return { id, version: l.suite.version, digest: `sha256:${l.digest}`, cases: l.suite.cases.length, description: l.suite.description ?? '' };
        });
        process.stdout.write(flags.json ? `${JSON.stringify(rows, null, 2)}\n` : rows.map((r) => `${r.id.padEnd(20)} ${r.version.padEnd(7)} ${String(r.cases).padStart(3)} cases  ${r.digest.slice(0, 19)}…  ${r.description}`).join('\n') + '\n');
        return;
      }
      if (!flags.endpoint) throw new ModelgateError('USAGE', 'eval needs --endpoint URL (e.g. http://localhost:11434/v1)');
      if (!flags.model) throw new ModelgateError('USAGE', 'eval needs --model NAME');
      if (!flags.suite?.length) throw new ModelgateError('USAGE', `eval needs --suite (built-in: ${builtinSuiteIds().join(', ')}, or all)`);
      const names = flags.suite.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
      const suites = (names.includes('all') ? [...builtinSuiteIds(), ...names.filter((n) => n !== 'all')] : names).map(loadSuite);
      if (flags.modelDigest && !/^sha256:[0-9a-f]{64}$/.test(flags.modelDigest)) throw new ModelgateError('USAGE', '--model-digest must look like sha256:<64 hex digits>');
      if (flags.modelDigest && flags.modelPath) throw new ModelgateError('USAGE', 'give --model-digest or --model-path, not both');
      const minPassRate = num(flags.minPassRate, '--min-pass-rate', 0, 1);
      const apiKey = apiKeyFrom(flags.apiKeyEnv, '--api-key-env');
      if ((flags.judgeEndpoint === undefined) !== (flags.judgeModel === undefined)) throw new ModelgateError('USAGE', '--judge-endpoint and --judge-model go together');
      const common: Omit<ClientOptions, 'endpoint' | 'model'> = {
        timeoutMs: num(flags.timeout, '--timeout', 1),
        retries: num(flags.retries, '--retries', 0, 20),
        rateLimit: flags.rateLimit !== undefined ? num(flags.rateLimit, '--rate-limit', 0) : undefined,
        onRetry: ({ attempt, status, delayMs }) => process.stderr.write(`${process.stderr.isTTY ? '\r\x1b[2K' : ''}modelgate: eval: ${status}, retry ${attempt} in ${delayMs} ms\n`),
      };
      const systemPrompt = flags.systemPrompt !== undefined ? readText(flags.systemPrompt, '--system-prompt') : undefined;
      const tools = flags.tools !== undefined ? readTools(flags.tools) : undefined;
      let modelDigest = flags.modelDigest;
      if (flags.modelPath) modelDigest = `sha256:${(await hashModel(flags.modelPath, {})).rootDigest}`;
      const showProgress = flags.progress && process.stderr.isTTY === true;
      const st = await runEval({
        ...common,
        endpoint: flags.endpoint,
        model: flags.model,
        apiKey,
        temperature: num(flags.temperature, '--temperature', 0, 2),
        maxTokens: flags.maxTokens !== undefined ? num(flags.maxTokens, '--max-tokens', 1) : undefined,
        seed: flags.seed !== undefined ? num(flags.seed, '--seed', 0) : undefined,
        suites,
        systemPrompt,
        tools,
        concurrency: num(flags.concurrency, '--concurrency', 1, 256),
        minPassRate,
        modelDigest,
        judge: flags.judgeEndpoint ? { ...common, endpoint: flags.judgeEndpoint, model: flags.judgeModel!, apiKey: apiKeyFrom(flags.judgeApiKeyEnv, '--judge-api-key-env') } : undefined,
        onProgress: showProgress ? (d, t) => process.stderr.write(`\r\x1b[2K${bar(d, t)}`) : undefined,
        onWarning: (m) => process.stderr.write(`${showProgress ? '\r\x1b[2K' : ''}modelgate: warning: ${m}\n`),
      });
      if (showProgress) process.stderr.write('\r\x1b[2K');
      if (flags.out) writeFileSync(flags.out, `${JSON.stringify(st, null, 2)}\n`);
      process.stdout.write(flags.json ? `${JSON.stringify(st, null, 2)}\n` : renderEval(st));
      if (flags.record) process.stderr.write(`modelgate: --record ${flags.record}: registry not available (the model registry is not built yet); the result was NOT recorded${flags.out ? `, it is in ${flags.out}` : ' — use --out FILE to keep it'}\n`);
      process.exitCode = evalExitCode(st);
    });

  cmd
    .command('compare')
    .description('Compare two eval results case by case: regressions (pass → fail), fixes, added and removed cases')
    .argument('<before>', 'earlier result (eval --out)')
    .argument('<after>', 'later result')
    .option('--json', 'machine-readable output', false)
    .addHelpText('after', '\nExit codes:\n  0  no regression\n  1  at least one case passed before and fails now\n  2  usage error or unreadable file\n\nExample:\n  modelgate eval compare release-1.json release-2.json')
    .action((a: string, b: string, flags: { json: boolean }, sub: Command) => {
      // `--json` after the file names is parsed by the parent `eval` command, which has a --json too.
      const json = flags.json || sub.optsWithGlobals().json === true;
      const cmp = compareEvalResults(readEvalResult(a), readEvalResult(b));
      process.stdout.write(json ? `${JSON.stringify(cmp, null, 2)}\n` : renderComparison(cmp));
      process.exitCode = cmp.regressions.length ? 1 : 0;
    });
}

function bar(done: number, total: number): string {
  const w = 30;
  const f = total ? Math.round((done / total) * w) : w;
  return `eval [${'#'.repeat(f)}${'.'.repeat(w - f)}] ${done}/${total}`;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const clip = (s: string, n = 240) => {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > n ? `${one.slice(0, n)}…` : one;
};

export function renderEval(st: EvalStatement): string {
  const p = st.predicate;
  const lines = [`model ${p.model} at ${p.endpoint}${p.server.kind !== 'unknown' ? ` (${p.server.kind} ${p.server.version ?? ''})` : ''}`];
  for (const s of p.suites) {
    const ok = s.passRate >= p.minPassRate;
    lines.push(
      `${ok ? 'PASS' : 'FAIL'} ${s.id}@${s.version}  ${s.passed}/${s.total} passed (${pct(s.passRate)}, 95% CI ${pct(s.ci95[0])}–${pct(s.ci95[1])})${s.errored ? `, ${s.errored} errors` : ''}  p50 ${s.latencyMs.p50} ms  tokens ${s.usage.promptTokens}/${s.usage.completionTokens}  ${s.digest.slice(0, 19)}…`,
    );
    for (const c of s.cases) {
      if (c.status === 'pass') continue;
      lines.push(`  ✗ ${c.id}: ${c.reasons.join('; ')}`);
      const lastUser = [...c.transcript.request].reverse().find((m) => m.role === 'user' || m.role === 'tool');
      if (lastUser) lines.push(`      > ${clip(lastUser.content ?? '')}`);
      const r = c.transcript.response;
      if (r) lines.push(`      < ${clip(r.content || r.toolCalls.map((t) => `${t.function.name}(${t.function.arguments})`).join(', ') || '(empty)')}`);
    }
  }
  const failing = p.suites.filter((s) => s.passRate < p.minPassRate).length;
  lines.push(`${failing ? `${failing} of ${p.suites.length} suites below` : `all ${p.suites.length} suites at or above`} the minimum pass rate ${pct(p.minPassRate)}`);
  return `${lines.join('\n')}\n`;
}

export function renderComparison(c: Comparison): string {
  const lines: string[] = [];
  for (const s of c.suites) {
    lines.push(`${s.id}: ${s.before === undefined ? '—' : pct(s.before)} → ${s.after === undefined ? '—' : pct(s.after)}${s.digestChanged ? '  (suite changed: digests differ)' : ''}`);
  }
  for (const r of c.regressions) lines.push(`REGRESSION ${r.suite}/${r.case}: ${r.before} → ${r.after}${r.reasons.length ? ` (${r.reasons.join('; ')})` : ''}`);
  for (const f of c.fixes) lines.push(`fixed      ${f.suite}/${f.case}: ${f.before} → ${f.after}`);
  for (const a of c.added) lines.push(`added      ${a}`);
  for (const r of c.removed) lines.push(`removed    ${r}`);
  lines.push(`${c.regressions.length} regression${c.regressions.length === 1 ? '' : 's'}, ${c.fixes.length} fixed`);
  return `${lines.join('\n')}\n`;
}
