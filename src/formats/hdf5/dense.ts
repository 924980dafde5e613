// Dense attribute storage (HDF5 ≥ 1.8 with the v2 object header): the attribute messages live in a
// fractal heap and are indexed by name in a version-2 B-tree. This reads the B-tree's records (heap IDs)
// and resolves each ID to its bytes: managed objects through the doubling table of direct and indirect
// blocks, huge objects through their own B-tree, tiny objects from the ID itself. Filtered heaps (which
// HDF5 never uses for attributes) are refused.
import { FormatError, LimitError } from '../errors.ts';
import { ascii, uint, UNDEF, type Hdf5File } from './file.ts';

interface FractalHeap {
  addr: number;
  idLen: number;
  flags: number;
  maxManSize: number;
  hugeBtree: number;
  width: number;
  startBlock: number;
  maxDirect: number;
  maxHeapBits: number;
  rootAddr: number;
  rootRows: number;
  offSize: number;
  lenSize: number;
  firstRowBits: number;
  maxDirectRows: number;
}

const log2 = (n: number): number => Math.floor(Math.log2(n));
const isPow2 = (n: number): boolean => n > 0 && Number.isSafeInteger(n) && 2 ** log2(n) === n;
/** Bytes needed to encode values up to `n` (H5VM_limit_enc_size). */
const encSize = (n: number): number => Math.floor(log2(Math.max(1, n)) / 8) + 1;

function readFractalHeap(f: Hdf5File, addr: number): FractalHeap {
  const O = f.sizeOfOffsets;
  const L = f.sizeOfLengths;
  const size = 4 + 1 + 2 + 2 + 1 + 4 + L + O + L + O + 8 * L + 2 + L + L + 2 + 2 + O + 2;
  const b = f.read(addr, size, 'fractal heap header');
  if (ascii(b, 0, 4) !== 'FRHP' || b[4] !== 0) throw new FormatError('HDF5_FRACTAL_HEAP', `no version-0 fractal heap header at address ${addr}`, f.base + addr);
  let p = 5;
  const idLen = uint(b, p, 2);
  const filterLen = uint(b, p + 2, 2);
  const flags = b[p + 4];
  const maxManSize = uint(b, p + 5, 4);
  p += 9 + L; // next huge object id
  const hugeBtree = f.offset(b, p);
  p += O + L + O + 8 * L; // free space, free-space manager, managed/allocated/iterator/count sizes, huge and tiny counts
  const width = uint(b, p, 2);
  const startBlock = f.length(b, p + 2);
  const maxDirect = f.length(b, p + 2 + L);
  const maxHeapBits = uint(b, p + 2 + 2 * L, 2);
  p += 2 + 2 * L + 4; // + starting rows
  const rootAddr = f.offset(b, p);
  const rootRows = uint(b, p + O, 2);
  if (filterLen > 0) throw new FormatError('HDF5_UNSUPPORTED', 'filtered fractal heaps are not supported', f.base + addr);
  if (!isPow2(width) || width > 65536 || !isPow2(startBlock) || !isPow2(maxDirect) || maxDirect < startBlock || maxDirect > 2 ** 31 || maxHeapBits < 1 || maxHeapBits > 64 || idLen < 2 || idLen > 1024) {
    throw new FormatError('HDF5_FRACTAL_HEAP', `fractal heap at address ${addr} has impossible parameters (width ${width}, blocks ${startBlock}..${maxDirect}, ${maxHeapBits} bits, id ${idLen} bytes)`, f.base + addr);
  }
  const startBits = log2(startBlock);
  const offSize = Math.ceil(maxHeapBits / 8);
  return {
    addr, idLen, flags, maxManSize, hugeBtree, width, startBlock, maxDirect, maxHeapBits, rootAddr, rootRows, offSize,
    lenSize: Math.min(Math.ceil(log2(maxDirect) / 8), encSize(maxManSize)),
    firstRowBits: startBits + log2(width),
    maxDirectRows: log2(maxDirect) - startBits + 2,
  };
}

const rowBlockSize = (h: FractalHeap, row: number): number => (row === 0 ? h.startBlock : h.startBlock * 2 ** (row - 1));

/** The bytes of one object of the heap, given its heap ID. */
function heapObject(f: Hdf5File, h: FractalHeap, id: Uint8Array): Uint8Array {
  if (id.length < h.idLen) throw new FormatError('HDF5_FRACTAL_HEAP', 'heap ID shorter than the heap declares');
  if ((id[0] & 0xc0) !== 0) throw new FormatError('HDF5_FRACTAL_HEAP', `heap ID version ${id[0] >> 6} is not supported`);
  const type = (id[0] >> 4) & 3;
  if (type === 2) {
    // tiny: the object is inside the ID
    const extended = h.idLen - 1 > 16;
    const len = extended ? (((id[0] & 0x0f) << 8) | id[1]) + 1 : (id[0] & 0x0f) + 1;
    const start = extended ? 2 : 1;
    if (start + len > h.idLen) throw new FormatError('HDF5_FRACTAL_HEAP', 'tiny heap object longer than its ID');
    return id.subarray(start, start + len);
  }
  if (type === 1) return hugeObject(f, h, id);
  if (type !== 0) throw new FormatError('HDF5_FRACTAL_HEAP', `unknown heap ID type ${type}`);
  const off = uint(id, 1, h.offSize);
  const len = uint(id, 1 + h.offSize, h.lenSize);
  if (len > h.maxManSize) throw new FormatError('HDF5_FRACTAL_HEAP', `managed heap object of ${len} bytes exceeds the heap's ${h.maxManSize}-byte limit`);
  if (h.rootAddr === UNDEF) throw new FormatError('HDF5_FRACTAL_HEAP', 'heap ID points into an empty heap');
  f.chargeValue(len);
  if (h.rootRows === 0) return directBlockObject(f, h, h.rootAddr, h.startBlock, 0, off, len);
  return indirectLookup(f, h, h.rootAddr, h.rootRows, 0, off, len, 0);
}

function directBlockObject(f: Hdf5File, h: FractalHeap, addr: number, blockSize: number, blockOff: number, off: number, len: number): Uint8Array {
  const sig = f.read(addr, 5, 'fractal heap direct block');
  if (ascii(sig, 0, 4) !== 'FHDB') throw new FormatError('HDF5_FRACTAL_HEAP', `no direct block signature at address ${addr}`, f.base + addr);
  const headerSize = 5 + f.sizeOfOffsets + h.offSize + (h.flags & 2 ? 4 : 0);
  const rel = off - blockOff;
  if (rel < headerSize || rel + len > blockSize) throw new FormatError('HDF5_FRACTAL_HEAP', `heap object at offset ${off} (+${len}) is outside its ${blockSize}-byte direct block`, f.base + addr);
  return f.read(addr + rel, len, 'fractal heap object');
}

function indirectLookup(f: Hdf5File, h: FractalHeap, addr: number, nrows: number, blockOff: number, off: number, len: number, depth: number): Uint8Array {
  f.step();
  if (depth > 64) throw new FormatError('HDF5_FRACTAL_HEAP', 'fractal heap indirect blocks nested too deep');
  if (nrows < 1 || nrows > 64) throw new FormatError('HDF5_FRACTAL_HEAP', `indirect block with ${nrows} rows`);
  const O = f.sizeOfOffsets;
  const head = 5 + O + h.offSize;
  const sig = f.read(addr, 5, 'fractal heap indirect block');
  if (ascii(sig, 0, 4) !== 'FHIB') throw new FormatError('HDF5_FRACTAL_HEAP', `no indirect block signature at address ${addr}`, f.base + addr);
  const rel = off - blockOff;
  let row: number, col: number;
  if (rel < h.startBlock * h.width) {
    row = 0;
    col = Math.floor(rel / h.startBlock);
  } else {
    const hb = log2(rel);
    row = hb - h.firstRowBits + 1;
    col = Math.floor((rel - 2 ** hb) / rowBlockSize(h, row));
  }
  if (row >= nrows || col >= h.width) throw new FormatError('HDF5_FRACTAL_HEAP', `heap offset ${off} is beyond the indirect block at ${addr}`, f.base + addr);
  const entry = f.read(addr + head + (row * h.width + col) * O, O, 'indirect block entry');
  const child = f.offset(entry, 0);
  if (child === UNDEF) throw new FormatError('HDF5_FRACTAL_HEAP', `heap offset ${off} falls in an unallocated block`);
  const size = rowBlockSize(h, row);
  const childOff = blockOff + (row === 0 ? col * h.startBlock : 2 ** (h.firstRowBits + row - 1) + col * size);
  if (row < h.maxDirectRows) return directBlockObject(f, h, child, size, childOff, off, len);
  const childRows = log2(size) - h.firstRowBits + 1;
  return indirectLookup(f, h, child, childRows, childOff, off, len, depth + 1);
}

function hugeObject(f: Hdf5File, h: FractalHeap, id: Uint8Array): Uint8Array {
  const O = f.sizeOfOffsets;
  const L = f.sizeOfLengths;
  let addr: number, len: number;
  if (O + L <= h.idLen - 1) {
    addr = f.offset(id, 1);
    len = f.length(id, 1 + O);
  } else {
    const key = uint(id, 1, Math.min(h.idLen - 1, 8));
    const found = btreeRecords(f, h.hugeBtree).find((r) => r.length >= O + 2 * L && f.length(r, O + L) === key);
    if (!found) throw new FormatError('HDF5_FRACTAL_HEAP', `huge heap object ${key} is not in its B-tree`);
    addr = f.offset(found, 0);
    len = f.length(found, O);
  }
  f.chargeValue(len);
  return f.read(addr, len, 'huge heap object');
}

/** Every record of the version-2 B-tree whose header is at `addr`, in key order. */
export function btreeRecords(f: Hdf5File, addr: number): Uint8Array[] {
  const O = f.sizeOfOffsets;
  const L = f.sizeOfLengths;
  const b = f.read(addr, 16 + O + 2 + L + 4, 'v2 B-tree header');
  if (ascii(b, 0, 4) !== 'BTHD' || b[4] !== 0) throw new FormatError('HDF5_BTREE', `no version-0 B-tree header at address ${addr}`, f.base + addr);
  const nodeSize = uint(b, 6, 4);
  const recSize = uint(b, 10, 2);
  const depth = uint(b, 12, 2);
  const root = f.offset(b, 16);
  const rootRecords = uint(b, 16 + O, 2);
  const total = f.length(b, 18 + O);
  if (recSize < 1 || nodeSize < 10 + recSize || nodeSize > 1 << 24 || depth > 32) {
    throw new FormatError('HDF5_BTREE', `B-tree at address ${addr} has impossible parameters (node ${nodeSize}, record ${recSize}, depth ${depth})`, f.base + addr);
  }
  if (total > f.limits.maxAttributes * 4) throw new LimitError('hdf5-records', `B-tree declares ${total} records`);
  if (root === UNDEF || total === 0) return [];
  // Per-depth sizes of the "records in child" fields, as the library derives them from the node size.
  const maxLeaf = Math.floor((nodeSize - 10) / recSize);
  if (maxLeaf < 1) throw new FormatError('HDF5_BTREE', 'B-tree nodes cannot hold a record');
  const maxNrecSize = encSize(maxLeaf);
  const cum: Array<{ cum: number; cumSize: number }> = [{ cum: maxLeaf, cumSize: 0 }];
  for (let d = 1; d <= depth; d++) {
    const ptr = O + maxNrecSize + cum[d - 1].cumSize;
    const maxNrec = Math.floor((nodeSize - (10 + ptr)) / (recSize + ptr));
    if (maxNrec < 1) throw new FormatError('HDF5_BTREE', 'B-tree internal nodes cannot hold a record');
    const c = (maxNrec + 1) * cum[d - 1].cum + maxNrec;
    cum.push({ cum: c, cumSize: encSize(c) });
  }
  const out: Uint8Array[] = [];
  const visit = (node: number, nrec: number, d: number): void => {
    f.step();
    if (nrec * recSize + 10 > nodeSize) throw new FormatError('HDF5_BTREE', `B-tree node at ${node} claims ${nrec} records`, f.base + node);
    const n = f.read(node, nodeSize, 'v2 B-tree node');
    const sig = ascii(n, 0, 4);
    if (sig !== (d === 0 ? 'BTLF' : 'BTIN')) throw new FormatError('HDF5_BTREE', `expected a ${d === 0 ? 'leaf' : 'internal'} B-tree node at address ${node}`, f.base + node);
    const recAt = (i: number) => n.subarray(6 + i * recSize, 6 + (i + 1) * recSize);
    if (d === 0) {
      for (let i = 0; i < nrec; i++) out.push(recAt(i));
      if (out.length > total) throw new FormatError('HDF5_BTREE', 'B-tree holds more records than its header declares');
      return;
    }
    const ptrSize = O + maxNrecSize + (d > 1 ? cum[d - 1].cumSize : 0);
    let p = 6 + nrec * recSize;
    if (p + (nrec + 1) * ptrSize > nodeSize) throw new FormatError('HDF5_BTREE', `B-tree internal node at ${node} overflows`, f.base + node);
    for (let i = 0; i <= nrec; i++) {
      const child = f.offset(n, p);
      const childRecs = uint(n, p + O, maxNrecSize);
      p += ptrSize;
      visit(child, childRecs, d - 1);
      if (i < nrec) out.push(recAt(i));
      if (out.length > total) throw new FormatError('HDF5_BTREE', 'B-tree holds more records than its header declares');
    }
  };
  visit(root, rootRecords, depth);
  return out;
}

/** The attribute messages stored densely for an object (Attribute Info message body). */
export function denseAttributeMessages(f: Hdf5File, info: Uint8Array): Uint8Array[] {
  if (info[0] !== 0) throw new FormatError('HDF5_UNSUPPORTED', `attribute info message version ${info[0]} is not supported`);
  const p = 2 + (info[1] & 1 ? 2 : 0);
  const heapAddr = f.offset(info, p);
  const nameIndex = f.offset(info, p + f.sizeOfOffsets);
  if (heapAddr === UNDEF || nameIndex === UNDEF) return [];
  const heap = readFractalHeap(f, heapAddr);
  const records = btreeRecords(f, nameIndex);
  if (records.length > f.limits.maxAttributes) throw new LimitError('hdf5-attributes', `more than ${f.limits.maxAttributes} attributes`);
  return records.map((r) => {
    f.step();
    return heapObject(f, heap, r.subarray(0, heap.idLen));
  });
}
