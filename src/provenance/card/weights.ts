// Parameter counts and dtypes from weight headers only: safetensors JSON headers and GGUF tensor infos.
// Tensor data is never read.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseSafetensors } from '../../formats/safetensors/index.ts';
import { GGML_TYPES, parseGguf, type GgufInfo } from '../../formats/gguf/index.ts';
import { FileSource } from '../../formats/source.ts';
import type { WeightFile } from './model.ts';

/** safetensors headers and GGUF header regions larger than this are not read (the scanner reports them). */
export const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsSet {
  files: WeightFile[];
  /** The index the shards were listed in, when there is one. */
  index: string | null;
  warnings: string[];
}

/** Which safetensors files make up the model: the shards of an index, else model.safetensors, else all. */
export function pickSafetensors(dir: string, names: string[], index: Record<string, unknown> | null, indexName: string | null): { shards: string[]; warnings: string[] } {
  const warnings: string[] = [];
  if (index && indexName) {
    const map = index.weight_map;
    if (map && typeof map === 'object') {
      const shards = [...new Set(Object.values(map as Record<string, unknown>).filter((v): v is string => typeof v === 'string'))].sort();
      const present = shards.filter((s) => !s.includes('..') && existsSync(join(dir, s)));
      for (const s of shards) if (!present.includes(s)) warnings.push(`${indexName} lists shard ${s}, which is not in the folder`);
      if (present.length === shards.length && present.length > 0) return { shards: present, warnings };
      if (present.length > 0) return { shards: present, warnings };
    } else warnings.push(`${indexName} has no weight_map object`);
  }
  const all = names.filter((n) => n.endsWith('.safetensors')).sort();
  if (all.includes('model.safetensors')) return { shards: ['model.safetensors'], warnings };
  return { shards: all, warnings };
}

export function readSafetensors(dir: string, name: string, warnings: string[]): WeightFile | null {
  const src = new FileSource(join(dir, name));
  try {
    const info = parseSafetensors(src, { maxHeaderBytes: MAX_HEADER_BYTES });
    if (info.problems.length > 0) {
      warnings.push(`${name}: ${info.problems.length} header problem(s), first: ${info.problems[0].detail} (run modelgate scan)`);
    }
    if (info.tensors.length === 0 && info.problems.length > 0) return null;
    const dtypes: Record<string, number> = {};
    let parameters = 0;
    for (const t of info.tensors) {
      const n = t.shape.reduce((a, b) => a * b, 1);
      parameters += n;
      dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + n;
    }
    return { file: name, format: 'safetensors', tensors: info.tensors.length, parameters, dtypes };
  } catch (e) {
    warnings.push(`${name}: header not read: ${(e as Error).message}`);
    return null;
  } finally {
    src.close?.();
  }
}

export interface GgufRead {
  weight: WeightFile;
  info: GgufInfo;
}

export function readGguf(dir: string, name: string, warnings: string[]): GgufRead | null {
  const path = join(dir, name);
  if (!statSync(path).isFile()) return null;
  const src = new FileSource(path);
  try {
    const info = parseGguf(src, { maxHeaderBytes: MAX_HEADER_BYTES });
    if (info.error) warnings.push(`${name}: GGUF header not fully read: ${info.error.message}`);
    if (info.problems.length > 0) warnings.push(`${name}: ${info.problems.length} GGUF problem(s), first: ${info.problems[0].detail} (run modelgate scan)`);
    const dtypes: Record<string, number> = {};
    let parameters = 0;
    for (const t of info.tensors) {
      const n = Number(t.dims.reduce((a, b) => a * b, 1n));
      parameters += n;
      const type = GGML_TYPES.get(t.type)?.[0] ?? `type${t.type}`;
      dtypes[type] = (dtypes[type] ?? 0) + n;
    }
    return { weight: { file: name, format: 'gguf', tensors: info.tensors.length, parameters, dtypes }, info };
  } catch (e) {
    warnings.push(`${name}: GGUF header not read: ${(e as Error).message}`);
    return null;
  } finally {
    src.close?.();
  }
}

/** llama.cpp's `llama_ftype` (general.file_type): the dominant quantization of a GGUF file. */
export const GGUF_FILE_TYPES: ReadonlyMap<number, string> = new Map([
  [0, 'F32'], [1, 'F16'], [2, 'Q4_0'], [3, 'Q4_1'], [7, 'Q8_0'], [8, 'Q5_0'], [9, 'Q5_1'], [10, 'Q2_K'],
  [11, 'Q3_K_S'], [12, 'Q3_K_M'], [13, 'Q3_K_L'], [14, 'Q4_K_S'], [15, 'Q4_K_M'], [16, 'Q5_K_S'], [17, 'Q5_K_M'],
  [18, 'Q6_K'], [19, 'IQ2_XXS'], [20, 'IQ2_XS'], [21, 'Q2_K_S'], [22, 'IQ3_XS'], [23, 'IQ3_XXS'], [24, 'IQ1_S'],
  [25, 'IQ4_NL'], [26, 'IQ3_S'], [27, 'IQ3_M'], [28, 'IQ2_S'], [29, 'IQ2_M'], [30, 'IQ4_XS'], [31, 'IQ1_M'],
  [32, 'BF16'], [36, 'TQ1_0'], [37, 'TQ2_0'], [38, 'MXFP4_MOE'],
]);

/** Split GGUF files (`name-00001-of-00003.gguf`) belong together; other GGUF files are alternatives. */
export function groupGguf(names: string[]): string[][] {
  const groups = new Map<string, string[]>();
  for (const n of names.filter((x) => x.endsWith('.gguf')).sort()) {
    const m = /^(.*)-\d{5}-of-\d{5}\.gguf$/.exec(n);
    const key = m ? m[1] : n;
    groups.set(key, [...(groups.get(key) ?? []), n]);
  }
  return [...groups.values()];
}
