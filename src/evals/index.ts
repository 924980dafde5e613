// Door of the eval harness (`modelgate eval`).
export { ChatClient, EvalHttpError, detectServer, estimateTokens, normalizeEndpoint, ollamaDefaultContext, parseCompletion, parseRetryAfter, type ClientOptions, type ChatRequest, type ServerInfo } from './client.ts';
export { findCanary, grade, isRefusal, systemPromptOverlap, visibleText, type GradeContext } from './graders.ts';
export { buildCase, builtinSuiteIds, canonicalJson as suiteCanonicalJson, loadSuite, parseSuite, render as renderSuiteTemplate, suiteDigest } from './suite.ts';
export { EVAL_PREDICATE_TYPE, evalExitCode, judgeAnswer, runEval, wilson, type EvalPredicate, type EvalStatement, type RunEvalOptions } from './run.ts';
export { compareEvalResults, readEvalResult, type CaseChange, type Comparison } from './compare.ts';
export type * from './types.ts';
export { checkEvalEvidence, type EvalGateResult, type EvalRequirement } from './gate.ts';
