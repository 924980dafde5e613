// OpenAI-compatible Chat Completions client: timeouts, retries with backoff (429/5xx, Retry-After),
// a request-rate limit. The API key is sent in the Authorization header and never appears in messages.
import { ModelgateError } from '../scan/model.ts';
import type { ChatMessage, ChatResponse, ToolCall, ToolSpec } from './types.ts';

export interface ClientOptions {
  endpoint: string;
  model: string;
  apiKey?: string;
  timeoutMs?: number;
  retries?: number;
  /** First backoff delay; doubles per attempt (with jitter), capped at maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Requests per second across all workers; 0 = unlimited. */
  rateLimit?: number;
  temperature?: number;
  maxTokens?: number;
  seed?: number;
  /** Called before each retry (for a warning line). */
  onRetry?: (info: { attempt: number; status: number | string; delayMs: number }) => void;
}

export interface ChatRequest {
  messages: ChatMessage[];
  tools?: ToolSpec[];
  responseFormat?: unknown;
}

export class EvalHttpError extends Error {
  constructor(
    readonly status: number | string,
    message: string,
  ) {
    super(message);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Retry-After: seconds or an HTTP date. Returns milliseconds or undefined. */
export function parseRetryAfter(v: string | null, now = Date.now()): number | undefined {
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

export function normalizeEndpoint(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ModelgateError('USAGE', `--endpoint is not a URL: ${url}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ModelgateError('USAGE', `--endpoint must be http(s): ${url}`);
  return url.replace(/\/+$/, '').replace(/\/chat\/completions$/, '');
}

/** The endpoint for messages: no user:password part. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

export class ChatClient {
  readonly endpoint: string;
  private nextSlot = 0;
  constructor(readonly opts: ClientOptions) {
    this.endpoint = normalizeEndpoint(opts.endpoint);
  }

  private async throttle(): Promise<void> {
    const rps = this.opts.rateLimit ?? 0;
    if (rps <= 0) return;
    const now = Date.now();
    const slot = Math.max(now, this.nextSlot);
    this.nextSlot = slot + 1000 / rps;
    if (slot > now) await sleep(slot - now);
  }

  headers(): Record<string, string> {
    const h: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.opts.apiKey) h.authorization = `Bearer ${this.opts.apiKey}`;
    return h;
  }

  async chat(req: ChatRequest): Promise<ChatResponse> {
    const body: Record<string, unknown> = {
      model: this.opts.model,
      messages: req.messages,
      temperature: this.opts.temperature ?? 0,
      stream: false,
    };
    if (this.opts.maxTokens) body.max_tokens = this.opts.maxTokens;
    if (this.opts.seed !== undefined) body.seed = this.opts.seed;
    if (req.tools?.length) body.tools = req.tools;
    if (req.responseFormat) body.response_format = req.responseFormat;
    const retries = this.opts.retries ?? 4;
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      await this.throttle();
      let status: number | string;
      let retryAfter: number | undefined;
      let message: string;
      try {
        const res = await fetch(`${this.endpoint}/chat/completions`, {
          method: 'POST',
          headers: this.headers(),
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(this.opts.timeoutMs ?? 60_000),
        });
        const text = await res.text();
        if (res.ok) return { ...parseCompletion(text), latencyMs: Date.now() - started, attempts: attempt };
        status = res.status;
        retryAfter = parseRetryAfter(res.headers.get('retry-after'));
        message = `HTTP ${res.status}${errorMessage(text)}`;
        if (res.status !== 429 && res.status < 500) throw new EvalHttpError(status, message);
      } catch (e) {
        if (e instanceof EvalHttpError) throw e;
        const name = (e as Error).name;
        status = name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : ((e as { cause?: { code?: string } }).cause?.code ?? 'network');
        message = status === 'timeout' ? `no answer within ${this.opts.timeoutMs ?? 60_000} ms` : `request failed: ${status}`;
        if (e instanceof SyntaxError || (e as Error).message.startsWith('malformed')) throw new EvalHttpError('malformed', (e as Error).message);
      }
      if (attempt > retries) throw new EvalHttpError(status, `${message} (after ${attempt} attempts)`);
      const base = Math.min(this.opts.maxBackoffMs ?? 30_000, (this.opts.backoffMs ?? 500) * 2 ** (attempt - 1));
      const delayMs = Math.min(this.opts.maxBackoffMs ?? 30_000, retryAfter ?? Math.round(base * (0.75 + Math.random() * 0.5)));
      this.opts.onRetry?.({ attempt, status, delayMs });
      await sleep(delayMs);
    }
  }
}

function errorMessage(text: string): string {
  try {
    const m = (JSON.parse(text) as { error?: { message?: unknown } | string }).error;
    const s = typeof m === 'string' ? m : typeof m?.message === 'string' ? m.message : '';
    return s ? `: ${s.slice(0, 200)}` : '';
  } catch {
    return '';
  }
}

/** Reads a chat.completion body; `arguments` may be a string (OpenAI) or an object (Ollama native). */
export function parseCompletion(text: string): Omit<ChatResponse, 'latencyMs' | 'attempts'> {
  let j: {
    choices?: { message?: { content?: unknown; reasoning_content?: unknown; tool_calls?: { id?: string; function?: { name?: string; arguments?: unknown } }[] }; finish_reason?: string | null }[];
    usage?: { prompt_tokens?: number; completion_tokens?: number };
  };
  try {
    j = JSON.parse(text);
  } catch {
    throw new Error(`malformed response: not JSON: ${text.slice(0, 80)}`);
  }
  const choice = j.choices?.[0];
  if (!choice?.message) throw new Error('malformed response: no choices[0].message');
  const m = choice.message;
  const content = typeof m.content === 'string' ? m.content : Array.isArray(m.content) ? m.content.map((p: { text?: string }) => p.text ?? '').join('') : '';
  const toolCalls: ToolCall[] = (m.tool_calls ?? []).map((t, i) => ({
    id: t.id ?? `call_${i}`,
    type: 'function',
    function: { name: String(t.function?.name ?? ''), arguments: typeof t.function?.arguments === 'string' ? t.function.arguments : JSON.stringify(t.function?.arguments ?? {}) },
  }));
  return {
    content,
    reasoning: typeof m.reasoning_content === 'string' ? m.reasoning_content : undefined,
    toolCalls,
    finishReason: choice.finish_reason ?? null,
    usage: j.usage ? { promptTokens: j.usage.prompt_tokens ?? 0, completionTokens: j.usage.completion_tokens ?? 0 } : undefined,
  };
}

/** Rough token estimate (≈ 4 characters per token for English). */
export function estimateTokens(messages: ChatMessage[]): number {
  return Math.ceil(messages.reduce((n, m) => n + (m.content?.length ?? 0) + 16, 0) / 4);
}

export interface ServerInfo {
  kind: 'ollama' | 'unknown';
  version?: string;
}

/** Ollama answers GET /api/version at the server root (the endpoint without /v1). */
export async function detectServer(endpoint: string, timeoutMs = 3000): Promise<ServerInfo> {
  const root = normalizeEndpoint(endpoint).replace(/\/v1$/, '');
  try {
    const r = await fetch(`${root}/api/version`, { signal: AbortSignal.timeout(timeoutMs) });
    if (r.ok) {
      const j = (await r.json()) as { version?: unknown };
      if (typeof j.version === 'string') return { kind: 'ollama', version: j.version };
    }
  } catch {
    /* not Ollama, or unreachable: the chat requests will say so */
  }
  return { kind: 'unknown' };
}

/** Ollama's default context window (num_ctx): 2048 up to 0.5, 4096 from 0.6 on. */
export function ollamaDefaultContext(version: string | undefined): number {
  const m = /^(\d+)\.(\d+)/.exec(version ?? '');
  if (!m) return 2048;
  return Number(m[1]) > 0 || Number(m[2]) >= 6 ? 4096 : 2048;
}
