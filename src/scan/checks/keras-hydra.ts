import type { TextCheck } from './types.ts';

export const kerasHydraChecks: TextCheck[] = [];
