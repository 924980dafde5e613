import type { Analyzer } from './types.ts';

export const ggufAnalyzers: Analyzer[] = [];
