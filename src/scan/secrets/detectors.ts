// Credential detectors. Each finds spans in text; `findSecrets` (index.ts) masks them, so no caller ever
// receives a full secret. Provider patterns follow the documented token formats; the generic detector
// needs a credential-like key name and a random-looking value.
import { charClasses, hasFillerRun, looksRandom, shannon } from './entropy.ts';

export type SecretSeverity = 'high' | 'medium';

/** A raw span; never leaves this folder (index.ts turns it into a masked SecretMatch). */
export interface RawSecret {
  kind: string;
  label: string;
  severity: SecretSeverity;
  /** The secret value's span in the text (what gets masked). */
  start: number;
  end: number;
  /** Key name for generic assignments. */
  key?: string;
  /** Extra, non-secret context (e.g. "with a secret access key nearby"). */
  note?: string;
}

interface TokenDetector {
  kind: string;
  label: string;
  re: RegExp;
  /** Characters of the match that are a fixed prefix (excluded from the randomness test). */
  prefix: RegExp;
  minEntropy?: number;
}

// Look-behinds keep a token from matching inside a longer identifier or base64 run.
const TOKENS: TokenDetector[] = [
  { kind: 'huggingface-token', label: 'Hugging Face access token', re: /(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{34}(?![A-Za-z0-9])/g, prefix: /^hf_/ },
  { kind: 'huggingface-token', label: 'Hugging Face organization token', re: /(?<![A-Za-z0-9_])api_org_[A-Za-z0-9]{34}(?![A-Za-z0-9])/g, prefix: /^api_org_/ },
  { kind: 'anthropic-key', label: 'Anthropic API key', re: /(?<![A-Za-z0-9_-])sk-ant-[A-Za-z0-9_-]{32,300}/g, prefix: /^sk-ant-(?:[a-z]+\d*-)?/ },
  { kind: 'openai-key', label: 'OpenAI API key', re: /(?<![A-Za-z0-9_-])sk-(?!ant-)(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,300}/g, prefix: /^sk-(?:proj-|svcacct-|admin-|None-)?/, minEntropy: 3.5 },
  { kind: 'github-token', label: 'GitHub token', re: /(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36}(?![A-Za-z0-9])/g, prefix: /^gh[pousr]_/ },
  { kind: 'github-token', label: 'GitHub fine-grained token', re: /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{50,255}/g, prefix: /^github_pat_/ },
  { kind: 'slack-token', label: 'Slack token', re: /(?<![A-Za-z0-9])xox[abprs]-[A-Za-z0-9-]{10,250}/g, prefix: /^xox[abprs]-/, minEntropy: 2.8 },
  { kind: 'slack-webhook', label: 'Slack webhook URL', re: /https:\/\/hooks\.slack\.com\/services\/T[A-Za-z0-9_]{6,}\/B[A-Za-z0-9_]{6,}\/[A-Za-z0-9_]{16,}/g, prefix: /^https:\/\/hooks\.slack\.com\/services\//, minEntropy: 3 },
  { kind: 'google-api-key', label: 'Google API key', re: /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/g, prefix: /^AIza/ },
  { kind: 'stripe-key', label: 'Stripe live key', re: /(?<![A-Za-z0-9_])(?:sk|rk)_live_[A-Za-z0-9]{20,250}/g, prefix: /^(?:sk|rk)_live_/ },
];

const AWS_ID = /(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])/g;
const AWS_SECRET = /(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;
const AZURE_ACCOUNT_KEY = /AccountKey=([A-Za-z0-9+/]{86}==)/g;
const AZURE_SAS = /[?&;]sig=([A-Za-z0-9%+/]{40,200}(?:%3D|=){0,2})/gi;
const PEM_BEGIN = /-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----/g;
const GCP_TYPE = /"type"\s*:\s*"service_account"/;
const GCP_KEY = /"private_key"\s*:\s*"(-----BEGIN[^"]{0,8192})"/g;

export function detectRaw(text: string, opts: { bareValues?: boolean } = {}): RawSecret[] {
  const out: RawSecret[] = [];
  for (const d of TOKENS) {
    for (const m of text.matchAll(d.re)) {
      const value = m[0];
      const body = value.replace(d.prefix, '');
      if (looksRandom(body, d.minEntropy)) out.push({ kind: d.kind, label: d.label, severity: 'high', start: m.index!, end: m.index! + value.length });
    }
  }
  detectAws(text, out);
  for (const m of text.matchAll(AZURE_ACCOUNT_KEY)) {
    const start = m.index! + 'AccountKey='.length;
    if (looksRandom(m[1], 4)) out.push({ kind: 'azure-storage-key', label: 'Azure storage account key', severity: 'high', start, end: start + m[1].length });
  }
  for (const m of text.matchAll(AZURE_SAS)) {
    const around = text.slice(Math.max(0, m.index! - 300), m.index! + 300);
    const sig = decodeURIComponentSafe(m[1]);
    if (/[?&;]sv=\d{4}-\d{2}-\d{2}/.test(around) && looksRandom(sig, 4)) {
      const start = m.index! + m[0].length - m[1].length;
      out.push({ kind: 'azure-sas', label: 'Azure shared access signature', severity: 'high', start, end: start + m[1].length });
    }
  }
  if (GCP_TYPE.test(text)) {
    for (const m of text.matchAll(GCP_KEY)) {
      const start = m.index! + m[0].indexOf(m[1]);
      out.push({ kind: 'gcp-service-account', label: 'Google Cloud service-account key', severity: 'high', start, end: start + m[1].length });
    }
  }
  detectPem(text, out);
  detectGeneric(text, out, opts.bareValues ?? true);
  return dedupe(out);
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Access key ids are identifiers; with a 40-character secret nearby they are a working credential. */
function detectAws(text: string, out: RawSecret[]): void {
  for (const m of text.matchAll(AWS_ID)) {
    if (/EXAMPLE/.test(m[0]) || hasFillerRun(m[0].slice(4))) continue;
    const lo = Math.max(0, m.index! - 600);
    const window = text.slice(lo, m.index! + 600);
    let paired = false;
    for (const s of window.matchAll(AWS_SECRET)) {
      if (shannon(s[0]) < 4 || charClasses(s[0]) < 3 || /EXAMPLE/.test(s[0])) continue;
      paired = true;
      const start = lo + s.index!;
      out.push({ kind: 'aws-secret-key', label: 'AWS secret access key', severity: 'high', start, end: start + 40, note: 'next to an AWS access key id' });
    }
    out.push({
      kind: 'aws-access-key-id',
      label: 'AWS access key id',
      severity: paired ? 'high' : 'medium',
      start: m.index!,
      end: m.index! + m[0].length,
      note: paired ? 'with a secret access key nearby' : 'no secret access key nearby (an identifier, but it names an account)',
    });
  }
}

/** PEM private keys, also inside JSON strings where the newlines are "\n" escapes. */
function detectPem(text: string, out: RawSecret[]): void {
  for (const m of text.matchAll(PEM_BEGIN)) {
    const bodyStart = m.index! + m[0].length;
    const endMarker = `-----END ${m[1]}-----`;
    const endAt = text.indexOf(endMarker, bodyStart);
    const bodyEnd = endAt >= 0 && endAt - bodyStart < 65536 ? endAt : Math.min(text.length, bodyStart + 4096);
    const raw = text.slice(bodyStart, bodyEnd);
    // Drop escaped newlines and RFC 1421 headers (Proc-Type, DEK-Info) before judging the base64 body.
    const body = raw.replace(/\\[nr]/g, '\n').replace(/^[A-Za-z-]+:.*$/gm, '').replace(/\s+/g, '');
    const b64 = /^[A-Za-z0-9+/=]+/.exec(body)?.[0] ?? '';
    if (b64.length < 32 || shannon(b64) < 4) continue; // prose that names the header, or a stub
    // The span is the body: the BEGIN/END lines name the key type and are not secret.
    const start = bodyStart + (/^(?:\s|\\[nr])*/.exec(raw)?.[0].length ?? 0);
    let end = bodyEnd;
    for (;;) {
      if (end > start && /\s/.test(text[end - 1])) end--;
      else if (end - 2 > start && /^\\[nr]$/.test(text.slice(end - 2, end))) end -= 2;
      else break;
    }
    out.push({ kind: 'private-key', label: `Private key (${m[1]}, PEM)`, severity: 'high', start, end });
  }
}

const KEYWORD = /key|secret|token|passw(?:or)?d|pwd|credential/gi;
// The whole key name must end with a credential word; "tokenizer_class" or "key_dim" do not.
const KEY_NAME = /(?:^|[^a-z0-9])(?:api[_-]?key|apikey|secret|secret[_-]?key|token|passw(?:or)?d|pwd|credentials?)s?$|(?:api|secret|access|private|auth|account|client|signing|master|encryption|license|service|hf|openai|anthropic|wandb|aws|azure|gcp|google|github|slack|stripe|comet|neptune)[_-]?key$/i;
const IDENT = /[A-Za-z0-9_.-]/;
const PLACEHOLDER =
  /^(?:x+|\*+|\.+|-+|_+|#+|0+|1234.*|abcd.*)$|your|example|sample|dummy|placeholder|change_?me|replace|redacted|insert|enter|xxxx|\*\*\*|\.\.\.|<|>|\$\{|\{\{|%\(|^\$|^env[:.]|environ|getenv|process\.env|secret|token|passw|none|null|undefined|true|false|todo|fixme|test/i;

function isIdent(c: string | undefined): boolean {
  return c !== undefined && IDENT.test(c);
}

/** `api_key = "…"`, `"password": "…"`, `token: …` with a random-looking value. */
function detectGeneric(text: string, out: RawSecret[], bare: boolean): void {
  for (const m of text.matchAll(KEYWORD)) {
    let e = m.index! + m[0].length;
    if (text[e] === 's' || text[e] === 'S') e++;
    if (/[A-Za-z0-9_]/.test(text[e] ?? '')) continue;
    let s = m.index!;
    while (s > 0 && m.index! - s < 64 && isIdent(text[s - 1])) s--;
    const key = text.slice(s, e);
    if (!KEY_NAME.test(key)) continue;
    let p = e;
    if (text[p] === '"' || text[p] === "'") p++;
    while (text[p] === ' ' || text[p] === '\t') p++;
    if (text.startsWith('=>', p) || text.startsWith(':=', p)) p += 2;
    else if ((text[p] === ':' || text[p] === '=') && text[p + 1] !== '=') p++;
    else continue;
    while (text[p] === ' ' || text[p] === '\t') p++;
    let start: number;
    let end: number;
    // A quote, or an escaped double quote (code inside a JSON string, as in notebooks).
    const q = text[p] === '\\' && text[p + 1] === '"' ? '\\"' : text[p];
    if (q === '"' || q === "'" || q === '\\"') {
      start = p + q.length;
      end = start;
      while (end < text.length && end - start <= 256 && !text.startsWith(q, end) && text[end] !== '\n') end++;
      if (!text.startsWith(q, end)) continue;
    } else {
      if (!bare) continue;
      start = p;
      end = p;
      while (end < text.length && end - start <= 256 && /[^\s"',;#{}()[\]]/.test(text[end])) end++;
    }
    const value = text.slice(start, end);
    if (!genericValue(value)) continue;
    out.push({ kind: 'generic-secret', label: 'Credential-like value', severity: 'medium', start, end, key: key.replace(/^[._-]+/, '') });
  }
}

function genericValue(v: string): boolean {
  if (v.length < 12 || v.length > 256 || /\s/.test(v)) return false;
  if (PLACEHOLDER.test(v) || hasFillerRun(v, 5)) return false;
  if (/^https?:\/\/|^[.~]?\/|^[A-Za-z]:\\|\.(?:json|txt|py|bin|model|safetensors|ya?ml|pem|key|crt|pt|pth|onnx)$/i.test(v)) return false;
  // A dotted or dashed identifier (module.Class, some-model-name) is not a secret.
  if (/^[A-Za-z_][A-Za-z_.-]*$/.test(v)) return false;
  const classes = charClasses(v);
  if (!(/[0-9]/.test(v) && /[A-Za-z]/.test(v)) && classes < 3) return false;
  return shannon(v) >= (v.length >= 20 ? 3.5 : 3.0);
}

/** Overlapping spans keep the most specific detector (earlier in the list, provider before generic). */
function dedupe(list: RawSecret[]): RawSecret[] {
  const rank = (r: RawSecret) => (r.kind === 'generic-secret' ? 2 : r.kind === 'private-key' ? 1 : 0);
  const sorted = [...list].sort((a, b) => rank(a) - rank(b) || a.start - b.start);
  const kept: RawSecret[] = [];
  for (const r of sorted) if (!kept.some((k) => r.start < k.end && k.start < r.end)) kept.push(r);
  return kept.sort((a, b) => a.start - b.start);
}
