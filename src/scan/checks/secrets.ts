import type { TextCheck } from './types.ts';

export const secretsChecks: TextCheck[] = [];
