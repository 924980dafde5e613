import type { TextCheck } from './types.ts';

export const templatesChecks: TextCheck[] = [];
