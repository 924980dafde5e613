// File-name hints. Names never decide a format (content does); they decide what a file *claims* to be,
// so that content matching nothing it claims fails closed.

/** Names that claim a binary model format. */
export const MODEL_NAME = /\.(safetensors|npy|npz|pt|pth|ckpt|pkl|pickle|joblib|dill|sav|h5|hdf5|keras|onnx|gguf|ggml|tflite|msgpack|nemo|mar|pb)$/i;

/** Names of configuration files that frameworks execute from (Hydra/NeMo, Keras, transformers): one that
 * cannot be read as text (too large, not UTF-8) fails closed instead of being skipped. */
export const CONFIG_NAME = /(^|\/)[^/]*\.(ya?ml|json)$/i;
