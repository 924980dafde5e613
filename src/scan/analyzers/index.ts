// The one table of analyzers, in the order content detection tries them: containers and binary formats
// with magic bytes first, then text, then the magic-less pickle probe last.
import { compressedAnalyzer, sevenZipAnalyzer, tarAnalyzer } from './containers.ts';
import { ggufAnalyzers } from './gguf.ts';
import { graphAnalyzers } from './graph.ts';
import { hdf5MsgpackAnalyzers } from './hdf5-msgpack.ts';
import { textAnalyzer } from './text.ts';
import { npyAnalyzer, pickleAnalyzer, safetensorsAnalyzer } from './weights.ts';
import { zipAnalyzer } from './zip.ts';
import type { Analyzer } from './types.ts';

export const ANALYZERS: readonly Analyzer[] = [
  zipAnalyzer,
  npyAnalyzer,
  sevenZipAnalyzer,
  tarAnalyzer,
  safetensorsAnalyzer,
  ...ggufAnalyzers,
  ...hdf5MsgpackAnalyzers,
  ...graphAnalyzers,
  compressedAnalyzer,
  pickleAnalyzer,
  textAnalyzer,
];

export type { Analyzer, Walk } from './types.ts';
