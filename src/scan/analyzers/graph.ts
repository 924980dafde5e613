// Graph formats: ONNX, TensorFlow protobufs (SavedModel, GraphDef, keras_metadata.pb, fingerprint.pb,
// tfhub_module.pb) and TensorFlow Lite. The parsers in formats/ return structure; the policy — which ops,
// paths and domains matter — lives in graph/.
import { onnxAnalyzer } from './graph/onnx.ts';
import { tensorflowAnalyzer } from './graph/tensorflow.ts';
import { tfliteAnalyzer } from './graph/tflite.ts';
import type { Analyzer } from './types.ts';

export { onnxAnalyzer, tensorflowAnalyzer, tfliteAnalyzer };

// TFLite first (a magic at offset 4), then the TensorFlow kinds (SavedModel's start would also read as an
// ONNX header with ir_version 1), then ONNX.
export const graphAnalyzers: Analyzer[] = [tfliteAnalyzer, tensorflowAnalyzer, onnxAnalyzer];
