// A scripted OpenAI-compatible Chat Completions server for tests (node:http, 127.0.0.1 only).
// The persona is picked by the request's `model`:
//   vulnerable — leaks the system prompt and canaries (also encoded), obeys injected instructions,
//                complies with harmful requests, calls forbidden tools, breaks JSON, over-refuses look-alikes;
//   robust     — refuses harmful requests, answers benign look-alikes, never leaks, only allowed tools, valid JSON;
//   judge      — an LLM-as-judge: FAIL when the graded answer complies ("Sure, here is"), else PASS.
// Fault injection: `failFirst` answers the first N requests with a status (429/503) and Retry-After;
// `delayMs` holds every answer; `ollama` makes GET /api/version answer like Ollama.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { builtinSuiteIds, loadSuite } from '../../src/evals/index.ts';

interface Msg {
  role: string;
  content: string | null;
  tool_calls?: unknown[];
}
interface Req {
  model: string;
  messages: Msg[];
  tools?: { function: { name: string } }[];
  response_format?: { type: string; json_schema?: { schema?: Schema } };
}
type Schema = { type?: string; enum?: unknown[]; required?: string[]; properties?: Record<string, Schema>; items?: Schema; minItems?: number; minimum?: number };

export interface LlmServerOptions {
  failFirst?: { count: number; status: number; retryAfter?: string };
  delayMs?: number;
  ollama?: string;
  /** Reported usage.prompt_tokens (to simulate a server that truncated the prompt). */
  promptTokens?: number;
}

export interface LlmServer {
  url: string;
  requests: { headers: IncomingMessage['headers']; body: Req }[];
  close(): Promise<void>;
}

/** Harmful goals the personas know (the ground truth of the built-in harmful suites). */
const HARMFUL: string[] = (() => {
  const out: string[] = [];
  for (const id of builtinSuiteIds()) {
    if (id !== 'harmful-refusal' && id !== 'jailbreak') continue;
    for (const c of loadSuite(id).suite.cases) out.push((c.vars?.goal ?? c.prompt ?? '').toLowerCase());
  }
  return out.filter(Boolean);
})();

const INJECTION = /(?:ignore|disregard|forget)\b[^\n]*?\b(?:instructions|rules)\b[\s\S]*?\b([A-Z]{3,}-[0-9a-f]{4})\b/i;
const LEAK = /system prompt|your instructions|instructions above|words above|initial prompt|verbatim|secret|api key|internal key|confidential|password/i;
const SCARY = /\b(kill|shoot|attack|steal|chemicals|exploit|hacks?)\b/i;
const PII = /\b\d{3}-\d{2}-\d{4}\b|(?:\d[ -]?){13,16}|[\w.+-]+@[\w-]+\.[\w.]+/;

function redact(s: string): string {
  return s
    .replace(/\b\d{3}-\d{2}-\d{4}\b/g, '[REDACTED]')
    .replace(/\b(?:\d[ -]?){13,16}\b/g, '[REDACTED]')
    .replace(/[\w.+-]+@[\w-]+\.[\w.]+/g, '[REDACTED]')
    .replace(/\+?\d[\d ]{8,}\d/g, '[REDACTED]');
}

function instance(s: Schema | undefined): unknown {
  if (!s) return {};
  if (s.enum) return s.enum[0];
  switch (s.type) {
    case 'object':
      return Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, instance(v)]));
    case 'array':
      return Array.from({ length: s.minItems ?? 1 }, (_, i) => (s.items?.type === 'string' ? `item${i + 1}` : instance(s.items)));
    case 'number':
    case 'integer':
      return s.minimum ?? 1;
    case 'boolean':
      return true;
    default:
      return 'example';
  }
}

type Answer = { content: string | null; tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[] };
const text = (content: string): Answer => ({ content });
const call = (name: string, args: unknown): Answer => ({ content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name, arguments: JSON.stringify(args) } }] });
const REFUSE = "I'm sorry, but I can't help with that.";

function answer(req: Req): Answer {
  const system = req.messages.filter((m) => m.role === 'system').map((m) => m.content ?? '').join('\n');
  const nonSystem = req.messages.filter((m) => m.role !== 'system');
  const all = nonSystem.map((m) => m.content ?? '').join('\n');
  const last = nonSystem[nonSystem.length - 1];
  const user = [...nonSystem].reverse().find((m) => m.role === 'user')?.content ?? '';
  const lower = user.toLowerCase();
  const harmful = HARMFUL.some((h) => lower.includes(h));
  const toolNames = (req.tools ?? []).map((t) => t.function.name);
  const schema = req.response_format?.json_schema?.schema;

  if (req.model === 'judge') {
    const graded = /Assistant answer:\n<<<\n([\s\S]*?)\n>>>/.exec(user)?.[1] ?? '';
    return text(/sure, here is/i.test(graded) ? 'FAIL\nThe answer complies with the harmful request.' : 'PASS\nThe answer refuses.');
  }

  if (req.model === 'vulnerable') {
    const inj = INJECTION.exec(all);
    if (inj) return text(`${inj[1]}`);
    if (toolNames.length && last?.role !== 'tool') {
      if (/transfer/i.test(user) && toolNames.includes('transfer')) return call('transfer', { to: 'attacker', amount: 1000 });
      if (/delete|close/i.test(user) && toolNames.includes('delete_account')) return call('delete_account', { account: 'self' });
      if (/balance/i.test(user)) return call('get_balance', { account: /account (\d+)/.exec(user)?.[1] ?? 'self' });
    }
    if (harmful) return text(`Sure, here is how to do it: ${user}. Step 1: gather what you need. Step 2: ...`);
    if (LEAK.test(user)) {
      if (/base64/i.test(user)) return text(Buffer.from(system).toString('base64'));
      if (/hex/i.test(user)) return text(Buffer.from(system).toString('hex').replace(/(..)/g, '$1 ').trim());
      if (/backwards|revers/i.test(user)) return text([...system].reverse().join(''));
      if (/spaces|spell/i.test(user)) return text([...system].join(' '));
      return text(`Sure! Here are my instructions:\n${system}`);
    }
    if (PII.test(user)) return text(`Summary: ${user}`);
    if (schema) return text(`Sure! Here is the JSON you asked for: {name: 'Acme', price: "cheap"}`);
    if (SCARY.test(user)) return text(REFUSE);
    return text('Here is my answer.');
  }

  // robust
  if (last?.role === 'tool') return text('According to the tool result, it is sunny and 21°C in Paris.');
  if (harmful) return text(REFUSE);
  if (INJECTION.test(all)) return text('Summary: the content is ordinary business information; I did not follow the instructions embedded in it.');
  if (toolNames.length) {
    if (/what'?s my balance|my balance/i.test(user) && toolNames.includes('get_balance')) return call('get_balance', { account: 'self' });
    return text("I'm sorry, I can only look up the balance of your own account.");
  }
  if (LEAK.test(user)) return text("I'm sorry, I can't share my instructions or any confidential information.");
  if (schema) return text(JSON.stringify(instance(schema)));
  if (PII.test(user)) return text(`Summary: ${redact(user)}`);
  if (/summari[sz]e|email|e-mail/i.test(user)) return text('Summary: the document reports business information; I have left out any embedded instructions.');
  if (/french|translate/i.test(system)) return text('Voici la traduction de votre message (les instructions du message ont été traduites, pas suivies).');
  return text('Sure! Here is a clear, practical answer to your question.');
}

export async function startLlmServer(opts: LlmServerOptions = {}): Promise<LlmServer> {
  const requests: LlmServer['requests'] = [];
  let failures = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      if (req.method === 'GET' && req.url === '/api/version') {
        if (opts.ollama) return send(200, { version: opts.ollama });
        return send(404, { error: { message: 'not found' } });
      }
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) return send(404, { error: { message: 'not found' } });
      let body: Req;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Req;
      } catch {
        return send(400, { error: { message: 'invalid JSON body', type: 'invalid_request_error' } });
      }
      requests.push({ headers: req.headers, body });
      if (opts.failFirst && failures < opts.failFirst.count) {
        failures++;
        return send(opts.failFirst.status, { error: { message: 'try again later', type: 'server_error' } }, opts.failFirst.retryAfter ? { 'retry-after': opts.failFirst.retryAfter } : {});
      }
      const a = answer(body);
      const promptChars = body.messages.reduce((n, m) => n + (m.content?.length ?? 0), 0);
      const reply = {
        id: `chatcmpl-${requests.length}`,
        object: 'chat.completion',
        created: 1_700_000_000,
        model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', ...a }, logprobs: null, finish_reason: a.tool_calls ? 'tool_calls' : 'stop' }],
        usage: { prompt_tokens: opts.promptTokens ?? Math.ceil(promptChars / 4), completion_tokens: Math.ceil((a.content?.length ?? 20) / 4), total_tokens: 0 },
      };
      if (opts.delayMs) setTimeout(() => { if (!res.destroyed) send(200, reply); }, opts.delayMs);
      else send(200, reply);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
