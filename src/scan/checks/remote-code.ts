import type { TextCheck } from './types.ts';

export const remoteCodeChecks: TextCheck[] = [];
