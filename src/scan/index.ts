export { scan, buildReport, exitCodeFor } from './scan.ts';
export { scanFile, scanSource } from './walker.ts';
export { DEFAULT_LIMITS, type ScanLimits, type ScanOptions, type ProgressEvent } from './context.ts';
export { RULES, getRule } from './rules/index.ts';
export { judgeImport } from './pickle-policy.ts';
export * from './model.ts';
