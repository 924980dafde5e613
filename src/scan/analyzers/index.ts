// The one table of analyzers, in the order content detection tries them.
import { compressedAnalyzer, sevenZipAnalyzer, tarAnalyzer } from './containers.ts';
import { npyAnalyzer, pickleAnalyzer, safetensorsAnalyzer } from './weights.ts';
import { zipAnalyzer } from './zip.ts';
import type { Analyzer } from './types.ts';

export const ANALYZERS: readonly Analyzer[] = [
  zipAnalyzer,
  npyAnalyzer,
  sevenZipAnalyzer,
  tarAnalyzer,
  safetensorsAnalyzer,
  compressedAnalyzer,
  pickleAnalyzer,
];

export type { Analyzer, Walk } from './types.ts';
