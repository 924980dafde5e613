// Release-gate check over eval evidence: is this statement about this model, made with these suites,
// and does every required suite reach its pass rate?
import type { EvalStatement } from './run.ts';

export interface EvalRequirement {
  suite: string;
  minPassRate: number;
  /** Use the lower bound of the Wilson 95 % interval instead of the observed rate. */
  useLowerBound?: boolean;
  /** Pin the suite content: `sha256:<hex>`. */
  digest?: string;
}

export interface EvalGateResult {
  allowed: boolean;
  reasons: string[];
}

/** Checks eval evidence against requirements; `modelDigest` (sha256:<hex>) must be the statement's model subject. */
export function checkEvalEvidence(st: EvalStatement, modelDigest: string | undefined, reqs: EvalRequirement[]): EvalGateResult {
  const reasons: string[] = [];
  if (modelDigest) {
    const want = modelDigest.replace(/^sha256:/, '');
    const bound = st.subject.some((s) => !s.name.startsWith('suite:') && s.digest.sha256 === want);
    if (!bound) reasons.push(`the eval result is not bound to model ${modelDigest}`);
  }
  for (const r of reqs) {
    const s = st.predicate.suites.find((x) => x.id === r.suite);
    if (!s) {
      reasons.push(`suite ${r.suite} was not run`);
      continue;
    }
    if (r.digest && s.digest !== r.digest) reasons.push(`suite ${r.suite} ran with content ${s.digest}, not the pinned ${r.digest}`);
    const rate = r.useLowerBound ? s.ci95[0] : s.passRate;
    if (rate < r.minPassRate) reasons.push(`suite ${r.suite}: ${r.useLowerBound ? 'lower 95% bound' : 'pass rate'} ${rate} < required ${r.minPassRate} (${s.passed}/${s.total} passed)`);
  }
  return { allowed: reasons.length === 0, reasons };
}
