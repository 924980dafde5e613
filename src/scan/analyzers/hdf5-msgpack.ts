import type { Analyzer } from './types.ts';

export const hdf5MsgpackAnalyzers: Analyzer[] = [];
