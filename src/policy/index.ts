// The door of the policy room: a policy file in, a release decision with reasons out.
export { checkPolicy, parsePolicy, loadPolicy, loadPolicyFile, defaultPolicy, POLICY_FILE, formatIssue, PolicyError, BUILTIN_SOURCE, type PolicyCheck } from './load.ts';
export { evaluateGate, requirementsFor, type GateOptions } from './gate.ts';
export { describeCell, describeCellShort, describeCellNotes } from './describe.ts';
export { scanFactsOf, licenseFactsOf } from './facts.ts';
export { parseDuration } from './duration.ts';
export { POLICY_SCHEMA } from './schema.ts';
export { DEFAULT_POLICY_YAML } from './default-policy.ts';
export * from './types.ts';
