import type { Analyzer } from './types.ts';

export const graphAnalyzers: Analyzer[] = [];
