// HDF5 (the container of legacy Keras .h5 models and of Keras 3 model.weights.h5): a bounded reader of
// the root group's attributes — where Keras keeps model_config, training_config, keras_version and
// backend. Supports superblocks 0-3, object headers v1/v2 with continuations, compact and dense
// attribute storage, fixed and variable-length strings. Anything else it needs and cannot read is a
// FormatError (fail closed); datasets are never read.
import { FormatError } from '../errors.ts';
import type { ByteSource } from '../source.ts';
import { decodeAttribute, type Hdf5Attribute } from './attributes.ts';
import { denseAttributeMessages } from './dense.ts';
import { DEFAULT_HDF5_LIMITS, Hdf5File, findSignature, hasSignatureAt, readObjectHeader, readSuperblock, type Hdf5Limits, type Superblock } from './file.ts';

export type { Hdf5Attribute, Hdf5Value } from './attributes.ts';
export type { Hdf5Limits, Superblock } from './file.ts';

const ATTRIBUTE = 0x0c;
const ATTRIBUTE_INFO = 0x15;
const SHARED = 0x02;

export interface Hdf5Root {
  superblock: Superblock;
  attributes: Hdf5Attribute[];
  /** True when the root's attributes (some of them) are stored densely (fractal heap + B-tree). */
  dense: boolean;
}

/** The signature at offset 0, or at 512/1024/2048 (a user block) within the first bytes. */
export function looksLikeHdf5(head: Uint8Array): boolean {
  return [0, 512, 1024, 2048].some((o) => hasSignatureAt(head, o));
}

export { findSignature as findHdf5Signature };

export function readRootAttributes(src: ByteSource, limits: Partial<Hdf5Limits> = {}): Hdf5Root {
  const at = findSignature(src);
  if (at === null) throw new FormatError('HDF5_SIGNATURE', 'no HDF5 signature at offset 0 or at any power of two from 512');
  const superblock = readSuperblock(src, at);
  const f = new Hdf5File(src, at, superblock.sizeOfOffsets, superblock.sizeOfLengths, { ...DEFAULT_HDF5_LIMITS, ...limits });
  const attributes: Hdf5Attribute[] = [];
  let dense = false;
  for (const m of readObjectHeader(f, superblock.rootObjectHeader)) {
    if (m.type === ATTRIBUTE) {
      if (m.flags & SHARED) throw new FormatError('HDF5_UNSUPPORTED', 'shared attribute messages (shared object header message table) are not supported', m.offset);
      attributes.push(decodeAttribute(f, m.data, m.offset));
    } else if (m.type === ATTRIBUTE_INFO) {
      const msgs = denseAttributeMessages(f, m.data);
      dense ||= msgs.length > 0;
      for (const d of msgs) attributes.push(decodeAttribute(f, d, null));
    }
    if (attributes.length > f.limits.maxAttributes) throw new FormatError('HDF5_ATTRIBUTE', `more than ${f.limits.maxAttributes} attributes`);
  }
  return { superblock, attributes, dense };
}
