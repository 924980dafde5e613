export { scanPickle, looksLikePickleStart, render, DEFAULT_PICKLE_LIMITS } from './machine.ts';
export type { PickleImport, PickleScanResult, PickleScanOptions, PickleLimits, NestedCandidate, PickleCallOfCall } from './machine.ts';
export { candidateNames, IMPORT_MAPPING, NAME_MAPPING, MODULE_ALIASES } from './names.ts';
