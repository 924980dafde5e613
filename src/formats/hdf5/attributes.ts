// Attribute messages (type 0x000C, versions 1-3): name, datatype, dataspace and the raw value. String
// values are decoded — fixed-length strings from the message itself, variable-length strings through the
// global heap. Other datatypes are described (class, size, shape) but their values are not decoded.
import { FormatError } from '../errors.ts';
import { uint, type Hdf5File } from './file.ts';

export type Hdf5Value =
  | { kind: 'string'; /** One per element, in order. */ values: string[]; variableLength: boolean }
  | { kind: 'other'; datatypeClass: number; size: number }
  | { kind: 'unsupported'; reason: string };

export interface Hdf5Attribute {
  name: string;
  /** Dimensions; [] for a scalar. */
  shape: number[];
  value: Hdf5Value;
  /** Absolute offset of the message body, or null for densely stored attributes. */
  offset: number | null;
}

const utf8 = new TextDecoder('utf-8');
const pad8 = (n: number) => Math.ceil(n / 8) * 8;

interface Datatype {
  cls: number;
  size: number;
  /** Strings: 0 null-terminated, 1 null-padded, 2 space-padded. */
  padding: number;
  vlenString: boolean;
}

function parseDatatype(b: Uint8Array): Datatype {
  if (b.length < 8) throw new FormatError('HDF5_DATATYPE', 'datatype message shorter than 8 bytes');
  const cls = b[0] & 0x0f;
  const bits = b[1] | (b[2] << 8);
  const size = uint(b, 4, 4);
  if (cls === 3) return { cls, size, padding: bits & 0x0f, vlenString: false };
  if (cls === 9) return { cls, size, padding: (bits >> 4) & 0x0f, vlenString: (bits & 0x0f) === 1 };
  return { cls, size, padding: 0, vlenString: false };
}

/** Dimensions of a dataspace message; null for the "null" dataspace (no elements). */
function parseDataspace(f: Hdf5File, b: Uint8Array): number[] | null {
  if (b.length < 4) throw new FormatError('HDF5_DATASPACE', 'dataspace message shorter than 4 bytes');
  const version = b[0];
  const rank = b[1];
  let p: number;
  if (version === 1) p = 8;
  else if (version === 2) {
    if (b[3] === 2) return null;
    p = 4;
  } else throw new FormatError('HDF5_DATASPACE', `dataspace version ${version} is not supported`);
  if (rank > 32) throw new FormatError('HDF5_DATASPACE', `dataspace of rank ${rank}`);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(f.length(b, p + i * f.sizeOfLengths));
  return dims;
}

function trimString(b: Uint8Array, padding: number): string {
  let end = b.length;
  if (padding === 0) {
    const nul = b.indexOf(0);
    if (nul >= 0) end = nul;
  } else {
    const pad = padding === 2 ? 0x20 : 0;
    while (end > 0 && b[end - 1] === pad) end--;
  }
  return utf8.decode(b.subarray(0, end));
}

export function decodeAttribute(f: Hdf5File, msg: Uint8Array, offset: number | null): Hdf5Attribute {
  if (msg.length < 8) throw new FormatError('HDF5_ATTRIBUTE', 'attribute message shorter than 8 bytes', offset);
  const version = msg[0];
  if (version < 1 || version > 3) throw new FormatError('HDF5_ATTRIBUTE', `attribute message version ${version} is not supported`, offset);
  const flags = version === 1 ? 0 : msg[1];
  const nameSize = uint(msg, 2, 2);
  const dtSize = uint(msg, 4, 2);
  const dsSize = uint(msg, 6, 2);
  const v1 = version === 1;
  const nameAt = version === 3 ? 9 : 8;
  const dtAt = nameAt + (v1 ? pad8(nameSize) : nameSize);
  const dsAt = dtAt + (v1 ? pad8(dtSize) : dtSize);
  const dataAt = dsAt + (v1 ? pad8(dsSize) : dsSize);
  if (dataAt > msg.length) throw new FormatError('HDF5_ATTRIBUTE', 'attribute name, datatype and dataspace run past the message', offset);
  const nameBytes = msg.subarray(nameAt, nameAt + nameSize);
  const nul = nameBytes.indexOf(0);
  const name = utf8.decode(nul >= 0 ? nameBytes.subarray(0, nul) : nameBytes);
  if (flags & 0x03) return { name, shape: [], value: { kind: 'unsupported', reason: 'shared (committed) datatype or dataspace' }, offset };
  const dt = parseDatatype(msg.subarray(dtAt, dtAt + dtSize));
  const dims = parseDataspace(f, msg.subarray(dsAt, dsAt + dsSize));
  const shape = dims ?? [];
  const data = msg.subarray(dataAt);
  let count = dims === null ? 0 : 1;
  for (const d of shape) count *= d;
  if (dt.size < 1) throw new FormatError('HDF5_ATTRIBUTE', `attribute "${name}" has a datatype of ${dt.size} bytes`, offset);
  if (!(count * dt.size <= data.length)) {
    throw new FormatError('HDF5_ATTRIBUTE', `attribute "${name}" declares ${count} × ${dt.size} bytes but its message holds ${data.length}`, offset);
  }
  if (dt.cls === 3) {
    f.chargeValue(count * dt.size);
    const values: string[] = [];
    for (let i = 0; i < count; i++) values.push(trimString(data.subarray(i * dt.size, (i + 1) * dt.size), dt.padding));
    return { name, shape, value: { kind: 'string', values, variableLength: false }, offset };
  }
  if (dt.cls === 9 && dt.vlenString) {
    const el = 4 + f.sizeOfOffsets + 4;
    if (dt.size !== el) throw new FormatError('HDF5_ATTRIBUTE', `variable-length string elements of ${dt.size} bytes (expected ${el})`, offset);
    const values: string[] = [];
    for (let i = 0; i < count; i++) {
      f.step();
      const e = data.subarray(i * el, (i + 1) * el);
      const len = uint(e, 0, 4);
      const collection = f.offset(e, 4);
      const index = uint(e, 4 + f.sizeOfOffsets, 4);
      if (len === 0 || collection === 0 || index === 0) {
        values.push('');
        continue;
      }
      values.push(trimString(f.globalHeapObject(collection, index, len), dt.padding));
    }
    return { name, shape, value: { kind: 'string', values, variableLength: true }, offset };
  }
  return { name, shape, value: { kind: 'other', datatypeClass: dt.cls, size: dt.size }, offset };
}
