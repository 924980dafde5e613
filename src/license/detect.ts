// Detection: the model card's front matter, license / notice / use-policy files, and SPDX expressions.
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createRequire } from 'node:module';
import { parse as parseYaml } from 'yaml';
import { ModelgateError } from '../scan/model.ts';
import { entryForLicenseName, spdxForHubId } from './kb/index.ts';
import { fingerprint, matchLicenseText, matchNotice } from './match.ts';
import type { EvidenceKind, LicenseEvidence } from './types.ts';

const require = createRequire(import.meta.url);

export type SpdxNode = { license: string; plus?: boolean; exception?: string } | { left: SpdxNode; conjunction: 'and' | 'or'; right: SpdxNode };
const parseSpdx: (expr: string) => SpdxNode = require('spdx-expression-parse');

/** License files larger than this are not license texts. */
const MAX_LICENSE_BYTES = 1 << 20;
/** Front matter sits at the start of a card: read at most this much of README.md. */
const MAX_CARD_BYTES = 4 << 20;

function readHead(path: string, max: number): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(max, fstatSync(fd).size));
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

export interface ModelCardLicense {
  /** Raw `license` value(s) from the card. */
  license: string[];
  licenseName?: string;
  licenseLink?: string;
  gated: Record<string, string>;
  /** `base_model` ids: the ancestors whose terms also bind a derived model. */
  baseModels: string[];
}

export interface Detection {
  card: ModelCardLicense | null;
  /** SPDX expression built from the card (Hub ids mapped to SPDX / LicenseRef), or null. */
  cardExpression: string | null;
  cardAst: SpdxNode | null;
  /** Why the card's license could not be turned into an expression. */
  cardProblem: string | null;
  /** The card's local `license_link` when that file is not in the folder. */
  linkMissing: string | null;
  evidence: LicenseEvidence[];
}

/** YAML front matter of a model card (README.md), or null when it has none. */
export function readFrontMatter(text: string, file: string): Record<string, unknown> | null {
  const m = /^\uFEFF?---[ \t]*\r?\n([\s\S]*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|$)/.exec(text);
  if (!m) return null;
  let data: unknown;
  try {
    data = parseYaml(m[1]);
  } catch (e) {
    throw new ModelgateError('CARD_YAML', `${file}: front matter is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  return data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : null;
}

export function cardLicense(front: Record<string, unknown>): ModelCardLicense | null {
  const raw = front.license;
  const license = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw.filter((x): x is string => typeof x === 'string') : [];
  const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
  const gated: Record<string, string> = {};
  for (const [k, v] of Object.entries(front)) {
    if (k.startsWith('extra_gated_')) gated[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  const bm = front.base_model;
  const baseModels = (typeof bm === 'string' ? [bm] : Array.isArray(bm) ? bm : []).filter((x): x is string => typeof x === 'string' && x.trim() !== '');
  const out: ModelCardLicense = { license, licenseName: str(front.license_name), licenseLink: str(front.license_link), gated, baseModels };
  if (!license.length && !out.licenseName && !out.licenseLink && !Object.keys(gated).length) return null;
  return out;
}

/** Turn the card's license field(s) into an SPDX expression over SPDX ids and LicenseRef-*. */
export function cardToExpression(card: ModelCardLicense): { expression: string | null; ast: SpdxNode | null; problem: string | null } {
  if (!card.license.length) {
    if (card.licenseName) {
      const e = entryForLicenseName(card.licenseName);
      const expr = e ? e.spdx : spdxForHubId(card.licenseName);
      return { expression: expr, ast: { license: expr }, problem: null };
    }
    return { expression: null, ast: null, problem: 'the model card has no `license` field' };
  }
  const parts = card.license.map((l) => mapExpression(l, card.licenseName));
  const expression = parts.length === 1 ? parts[0] : parts.map((p) => `(${p})`).join(' AND ');
  try {
    return { expression, ast: parseSpdx(expression), problem: null };
  } catch (e) {
    return { expression, ast: null, problem: `the card's license "${card.license.join(', ')}" is not a valid SPDX expression (${(e as Error).message})` };
  }
}

function mapExpression(text: string, licenseName: string | undefined): string {
  return text
    .trim()
    .split(/(\s+|\(|\))/)
    .filter((t) => t.trim() !== '')
    .map((t) => {
      if (t === '(' || t === ')') return t;
      const up = t.toUpperCase();
      if (up === 'AND' || up === 'OR' || up === 'WITH') return up;
      if (t.toLowerCase() === 'other' && licenseName) {
        const e = entryForLicenseName(licenseName);
        return e ? e.spdx : spdxForHubId(licenseName);
      }
      return spdxForHubId(t);
    })
    .join(' ')
    .replace(/\( /g, '(')
    .replace(/ \)/g, ')');
}

function fileKind(name: string): EvidenceKind | null {
  if (/use[_ -]?policy|acceptable[_ -]?use|prohibited[_ -]?use/i.test(name)) return 'use-policy-file';
  if (/^notice(\.(md|txt))?$/i.test(name)) return 'notice-file';
  if (/licen[cs]e|^copying(\.(md|txt))?$/i.test(name)) return 'license-file';
  return null;
}

function firstLine(text: string): string {
  return (text.split(/\r?\n/).find((l) => l.trim() !== '') ?? '').trim().slice(0, 120);
}

/** Evidence from one license / notice / use-policy file. */
export function licenseFileEvidence(path: string, rel: string, kind: EvidenceKind): LicenseEvidence {
  const bytes = readFileSync(path);
  const text = bytes.toString('utf8');
  const fp = fingerprint(bytes);
  const match = matchLicenseText(fp) ?? (kind === 'notice-file' ? matchNotice(fp) : null);
  return { kind, file: rel, value: firstLine(text), sha256: fp.sha256, normalizedSha256: fp.normalizedSha256, match: match ?? undefined };
}

/** Detect license evidence in a model folder, or in a single card / license file. */
export function detectLicenses(path: string): Detection {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new ModelgateError('NOT_FOUND', `${path}: no such file or folder`);
  }
  const evidence: LicenseEvidence[] = [];
  let cardFile: string | null = null;
  const files: Array<{ abs: string; rel: string; kind: EvidenceKind }> = [];
  if (st.isDirectory()) {
    for (const name of readdirSync(path).sort()) {
      const abs = join(path, name);
      let s;
      try {
        s = statSync(abs);
      } catch {
        continue;
      }
      if (!s.isFile()) continue;
      if (/^readme\.md$/i.test(name)) cardFile = abs;
      else {
        const kind = fileKind(name);
        if (kind && s.size <= MAX_LICENSE_BYTES) files.push({ abs, rel: name, kind });
      }
    }
  } else if (/\.md$/i.test(path) && /^\uFEFF?---/.test(readHead(path, 8))) {
    cardFile = path;
  } else {
    if (st.size > MAX_LICENSE_BYTES) throw new ModelgateError('TOO_LARGE', `${path}: ${st.size} bytes is too large for a license text`);
    files.push({ abs: path, rel: basename(path), kind: fileKind(basename(path)) ?? 'license-file' });
  }

  let card: ModelCardLicense | null = null;
  let cardExpression: string | null = null;
  let cardAst: SpdxNode | null = null;
  let cardProblem: string | null = null;
  let linkMissing: string | null = null;
  if (cardFile) {
    const rel = basename(cardFile);
    let front: Record<string, unknown> | null = null;
    try {
      front = readFrontMatter(readHead(cardFile, MAX_CARD_BYTES), rel);
    } catch (e) {
      if (!(e instanceof ModelgateError)) throw e;
      cardProblem = e.message; // a broken card is a finding of the review, not a crash
    }
    card = front ? cardLicense(front) : null;
    if (card) {
      for (const l of card.license) evidence.push({ kind: 'card-license', file: rel, value: l });
      for (const b of card.baseModels) evidence.push({ kind: 'card-base-model', file: rel, value: b });
      if (card.licenseName) evidence.push({ kind: 'card-license-name', file: rel, value: card.licenseName });
      if (card.licenseLink) evidence.push({ kind: 'card-license-link', file: rel, value: card.licenseLink });
      for (const [k, v] of Object.entries(card.gated)) {
        // Gated repos often put the whole license in extra_gated_prompt: match it like a file.
        const fp = k === 'extra_gated_prompt' && v.length > 200 ? fingerprint(v) : null;
        const match = fp ? matchLicenseText(fp) : null;
        evidence.push({ kind: 'card-gated', file: rel, value: `${k}: ${v.slice(0, 200)}`, ...(fp ? { sha256: fp.sha256, normalizedSha256: fp.normalizedSha256 } : {}), ...(match ? { match } : {}) });
      }
      const link = card.licenseLink;
      if (link && !/^[a-z]+:\/\//i.test(link) && st.isDirectory()) {
        const local = link.replace(/^\.?\//, '');
        if (!existsSync(join(path, local))) linkMissing = local;
      }
      ({ expression: cardExpression, ast: cardAst, problem: cardProblem } = cardToExpression(card));
    } else cardProblem ??= `${rel} has no license in its front matter`;
  }
  for (const f of files) evidence.push(licenseFileEvidence(f.abs, f.rel, f.kind));
  return { card, cardExpression, cardAst, cardProblem, linkMissing, evidence };
}

/** Leaves of an SPDX expression. */
export function spdxLeaves(node: SpdxNode): string[] {
  return 'license' in node ? [node.license] : [...spdxLeaves(node.left), ...spdxLeaves(node.right)];
}
