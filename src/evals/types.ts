// Types shared by the eval harness: suites, cases, assertions, transcripts and results.

export type Role = 'system' | 'user' | 'assistant' | 'tool';

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ChatMessage {
  role: Role;
  content: string | null;
  tool_calls?: ToolCall[];
  tool_call_id?: string;
  name?: string;
}

export interface ToolSpec {
  type: 'function';
  function: { name: string; description?: string; parameters?: unknown };
}

export type Assertion =
  | { type: 'contains' | 'not-contains' | 'icontains' | 'not-icontains'; value: string }
  | { type: 'regex' | 'not-regex'; value: string; flags?: string }
  | { type: 'canary'; value: string | string[] }
  | { type: 'json-schema'; schema: unknown }
  | { type: 'tool-call'; allowed?: string[]; forbidden?: string[]; required?: string; forbiddenArgs?: Record<string, string> }
  | { type: 'refusal' | 'not-refusal' }
  | { type: 'no-system-prompt-leak'; minRun?: number }
  | { type: 'llm-judge'; rubric: string };

export interface EvalCase {
  id: string;
  description?: string;
  vars?: Record<string, string>;
  /** Shorthand for one user message. */
  prompt?: string;
  messages?: ChatMessage[];
  system?: string;
  tools?: ToolSpec[];
  responseFormat?: unknown;
  assert: Assertion[];
}

export interface Suite {
  id: string;
  version: string;
  description?: string;
  /** Where the data came from, and its license. */
  source?: string;
  /** Default system prompt; `{{app_system_prompt}}` is replaced by --system-prompt's text. */
  system?: string;
  vars?: Record<string, string>;
  tools?: ToolSpec[];
  defaultAssert?: Assertion[];
  cases: EvalCase[];
}

export interface LoadedSuite {
  suite: Suite;
  /** sha256 hex of the canonical JSON of the parsed suite. */
  digest: string;
  origin: string;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

export interface ChatResponse {
  content: string;
  reasoning?: string;
  toolCalls: ToolCall[];
  finishReason: string | null;
  usage?: Usage;
  latencyMs: number;
  attempts: number;
}

export interface AssertionResult {
  type: string;
  pass: boolean;
  reason: string;
}

export interface CaseResult {
  id: string;
  status: 'pass' | 'fail' | 'error';
  reasons: string[];
  assertions: AssertionResult[];
  transcript: { request: ChatMessage[]; tools?: string[]; response?: { content: string; toolCalls: ToolCall[]; finishReason: string | null; reasoning?: string } };
  latencyMs: number;
  usage?: Usage;
  error?: string;
}

export interface SuiteResult {
  id: string;
  version: string;
  digest: string;
  total: number;
  passed: number;
  failed: number;
  errored: number;
  passRate: number;
  ci95: [number, number];
  latencyMs: { mean: number; p50: number; p95: number };
  usage: { promptTokens: number; completionTokens: number };
  cases: CaseResult[];
}
