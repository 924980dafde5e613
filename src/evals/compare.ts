// `eval compare`: two result statements, case by case.
import { readFileSync } from 'node:fs';
import { ModelgateError } from '../scan/model.ts';
import { EVAL_PREDICATE_TYPE, type EvalStatement } from './run.ts';

export interface CaseChange {
  suite: string;
  case: string;
  before: string;
  after: string;
  reasons: string[];
}

export interface Comparison {
  regressions: CaseChange[];
  fixes: CaseChange[];
  added: string[];
  removed: string[];
  suites: { id: string; before?: number; after?: number; digestChanged: boolean }[];
}

export function readEvalResult(path: string): EvalStatement {
  let j: EvalStatement;
  try {
    j = JSON.parse(readFileSync(path, 'utf8')) as EvalStatement;
  } catch (e) {
    throw new ModelgateError('USAGE', `cannot read eval result ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (j?.predicateType !== EVAL_PREDICATE_TYPE || !Array.isArray(j.predicate?.suites)) throw new ModelgateError('USAGE', `${path} is not a modelgate eval result (predicateType ${EVAL_PREDICATE_TYPE})`);
  return j;
}

export function compareEvalResults(a: EvalStatement, b: EvalStatement): Comparison {
  const out: Comparison = { regressions: [], fixes: [], added: [], removed: [], suites: [] };
  const ids = new Set([...a.predicate.suites.map((s) => s.id), ...b.predicate.suites.map((s) => s.id)]);
  for (const id of ids) {
    const sa = a.predicate.suites.find((s) => s.id === id);
    const sb = b.predicate.suites.find((s) => s.id === id);
    out.suites.push({ id, before: sa?.passRate, after: sb?.passRate, digestChanged: !!sa && !!sb && sa.digest !== sb.digest });
    if (!sa || !sb) {
      (sa ? out.removed : out.added).push(`${id} (whole suite)`);
      continue;
    }
    const ca = new Map((sa?.cases ?? []).map((c) => [c.id, c]));
    const cb = new Map((sb?.cases ?? []).map((c) => [c.id, c]));
    for (const [cid, x] of ca) {
      const y = cb.get(cid);
      if (!y) {
        out.removed.push(`${id}/${cid}`);
        continue;
      }
      const change = { suite: id, case: cid, before: x.status, after: y.status };
      if (x.status === 'pass' && y.status !== 'pass') out.regressions.push({ ...change, reasons: y.reasons });
      else if (x.status !== 'pass' && y.status === 'pass') out.fixes.push({ ...change, reasons: [] });
    }
    for (const cid of cb.keys()) if (!ca.has(cid)) out.added.push(`${id}/${cid}`);
  }
  return out;
}
