// Text checks for Keras model configs and Hydra/OmegaConf configs (the logic lives in ./keras-hydra/).
// The HDF5 analyzer runs the same Keras check over the model_config attributes of legacy .h5 files.
import type { TextCheck } from './types.ts';
import { checkKerasConfig, looksLikeKerasConfig } from './keras-hydra/keras.ts';
import { checkHydra, checkYamlPythonTags } from './keras-hydra/hydra.ts';
import { isRecord } from './keras-hydra/tree.ts';

export { checkKerasConfig, looksLikeKerasConfig, type Sink as KerasSink } from './keras-hydra/keras.ts';

export const kerasHydraChecks: TextCheck[] = [
  {
    id: 'keras-config',
    // Keras model configs by shape; anything JSON inside a .keras archive (config.json, metadata.json).
    applies: (ctx) => ctx.kind === 'json' && isRecord(ctx.doc) && (looksLikeKerasConfig(ctx.doc) || /\.keras!/i.test(ctx.entry.path)),
    run: (ctx) => checkKerasConfig(ctx.doc, { input: ctx.input, entry: ctx.entry, path: ctx.entry.path }),
  },
  {
    id: 'hydra-config',
    // Walk only documents that can hold a target or an interpolation (a large tokenizer.json holds neither).
    applies: (ctx) => (ctx.kind === 'json' || ctx.kind === 'yaml') && ctx.doc !== null && typeof ctx.doc === 'object' && (ctx.text.includes('_target_') || ctx.text.includes('${')),
    run: checkHydra,
  },
  {
    id: 'yaml-python-tags',
    applies: (ctx) => ctx.kind === 'yaml' && ctx.text.includes('python/'),
    run: checkYamlPythonTags,
  },
];
