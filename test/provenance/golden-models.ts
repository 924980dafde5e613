// Rebuilds the deterministic model folders of model_signing's tests/conftest.py (for the golden manifests).
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MS = fileURLToPath(new URL('../fixtures/model-signing/', import.meta.url));

/** Fixture name → model path, all under one fresh temporary folder. */
export function buildGoldenModels(): { dir: string; models: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), 'mg-oms-golden-'));
  const sample = join(dir, 'sample_model');
  for (let i = 0; i < 2; i++) {
    mkdirSync(join(sample, `d${i}`), { recursive: true });
    for (let j = 0; j < 3; j++) writeFileSync(join(sample, `d${i}`, `f${i}${j}`), `This is file f${i}${j} in d${i}.`);
  }
  for (let i = 0; i < 4; i++) writeFileSync(join(sample, `f${i}`), `This is file f${i} in root.`);
  const deep = join(dir, 'deep_model');
  const leaf = join(deep, 'd0', 'd1', 'd2', 'd3', 'd4');
  mkdirSync(leaf, { recursive: true });
  for (let i = 0; i < 4; i++) writeFileSync(join(leaf, `f${i}`), `This is file f${i}.`);
  const file = join(dir, 'file_model');
  writeFileSync(file, 'This is a simple model');
  const empty = join(dir, 'empty_file_model');
  writeFileSync(empty, '');
  const emptyFolder = join(dir, 'empty_folder_model');
  mkdirSync(emptyFolder);
  const withEmpty = join(dir, 'empty_file_inside_model');
  mkdirSync(withEmpty);
  writeFileSync(join(withEmpty, 'empty_file'), '');
  const outside = join(dir, 'outside_target');
  writeFileSync(outside, 'This is a simple model');
  const symlinkModel = join(dir, 'symlink_model');
  mkdirSync(symlinkModel);
  symlinkSync(outside, join(symlinkModel, 'symlink_file'));
  return {
    dir,
    models: {
      sample_model_folder: sample,
      deep_model_folder: deep,
      sample_model_file: file,
      empty_model_file: empty,
      empty_model_folder: emptyFolder,
      model_folder_with_empty_file: withEmpty,
      symlink_model_folder: symlinkModel,
    },
  };
}
