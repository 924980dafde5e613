// TensorFlow Lite: custom and Flex operators, and references (opcode indices, external buffers) that
// point outside the model.
import { FormatError } from '../../../formats/errors.ts';
import { TFLITE_CUSTOM, looksLikeTflite, readTflite } from '../../../formats/tflite/index.ts';
import type { Analyzer } from '../types.ts';
import { Capped, clip, failClosed } from './common.ts';
import { TF_FILE_OPS, TF_PATH_OPS, TF_PYTHON_OPS } from './tensorflow.ts';

/** Custom ops the standard interpreter (or MediaPipe's) registers itself. */
const TFLITE_KNOWN_CUSTOM = new Set([
  'TFLite_Detection_PostProcess', 'Convolution2DTransposeBias', 'MaxPoolingWithArgmax2D', 'MaxUnpooling2D',
  'Landmarks2TransformMatrix', 'TransformLandmarks', 'TransformTensorBilinear', 'AudioSpectrogram', 'Mfcc',
]);

export const tfliteAnalyzer: Analyzer = {
  id: 'tflite',
  version: 1,
  detect: (head, entry) => looksLikeTflite(head, entry.source.size) || /\.tflite$/i.test(entry.name),
  async analyze(entry, input) {
    const out = new Capped(entry, input);
    await failClosed(entry, input, 'MG-TFL-004', 'TFLite model', () => {
      const head = entry.source.read(0, 8);
      if (!looksLikeTflite(head, entry.source.size)) throw new FormatError('tflite-identifier', 'no "TFL3" file identifier at offset 4, or the root offset is outside the file', 4);
      const m = readTflite(entry.source, { deadline: input.deadline });
      const size = entry.source.size;
      const custom = new Set<string>();
      const known = new Set<string>();
      const flex = new Set<string>();
      const dangerous = new Set<string>();
      m.operatorCodes.forEach((c, i) => {
        if (c.builtinCode !== TFLITE_CUSTOM) return;
        const name = c.customCode;
        if (name === null || name === '') {
          out.report({ ruleId: 'MG-TFL-004', message: `Operator code ${i} is CUSTOM but names no operator.`, evidence: { index: i } });
          return;
        }
        if (name.startsWith('Flex')) {
          const tfOp = name.slice(4);
          (TF_PYTHON_OPS.has(tfOp) || TF_FILE_OPS.has(tfOp) || TF_PATH_OPS.has(tfOp) || tfOp === 'PrintV2' ? dangerous : flex).add(name);
        } else (TFLITE_KNOWN_CUSTOM.has(name) ? known : custom).add(name);
      });
      const list = (s: Set<string>) => [...s].sort().map((x) => clip(x, 100));
      if (dangerous.size) out.report({ ruleId: 'MG-TFL-003', message: `Flex ops that touch files or call Python: ${clip(list(dangerous).join(', '))}.`, evidence: { ops: list(dangerous).slice(0, 100) } });
      if (flex.size) out.report({ ruleId: 'MG-TFL-002', message: `Select TensorFlow (Flex) ops: ${clip(list(flex).join(', '))}.`, evidence: { ops: list(flex).slice(0, 100) } });
      if (custom.size) out.report({ ruleId: 'MG-TFL-001', message: `Custom ops the TFLite runtime does not ship: ${clip(list(custom).join(', '))}.`, evidence: { ops: list(custom).slice(0, 100) } });
      if (known.size) out.report({ ruleId: 'MG-TFL-001', severity: 'low', message: `Custom ops registered by the standard TFLite/MediaPipe runtimes: ${clip(list(known).join(', '))}.`, evidence: { ops: list(known).slice(0, 100) } });
      m.subgraphs.forEach((sg, i) => {
        const missing = [...sg.opcodeIndices].filter((k) => k >= m.operatorCodes.length);
        if (missing.length) out.report({ ruleId: 'MG-TFL-004', message: `Subgraph ${i} has operators with opcode_index ${missing.slice(0, 5).join(', ')} but only ${m.operatorCodes.length} operator codes exist.`, evidence: { subgraph: i, indices: missing.slice(0, 20).join(',') } });
      });
      m.buffers.forEach((b, i) => {
        // offset 1 with size 0 is the converter's placeholder for "no external data".
        if (b.size > 0 && (b.offset + b.size > size || b.offset < 8)) {
          out.report({ ruleId: 'MG-TFL-004', message: `Buffer ${i} points outside the model: bytes ${b.offset}..${b.offset + b.size} of a ${size}-byte file.`, evidence: { buffer: i, offset: b.offset, size: b.size } });
        }
      });
      for (const o of m.largeCustomOptions) {
        if (o.offset + o.size > size) out.report({ ruleId: 'MG-TFL-004', message: `Custom options at bytes ${o.offset}..${o.offset + o.size} lie outside the ${size}-byte model.`, evidence: { offset: o.offset, size: o.size } });
      }
    });
    out.finish();
  },
};
