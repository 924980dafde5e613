// Reads a ZIP's central directory and every local header the way loaders do, and reports each place where
// two readers (PyTorch's miniz, Python's zipfile, streaming unzippers) would see different archives.
import { FormatError, LimitError } from '../errors.ts';
import type { ByteSource } from '../source.ts';
import {
  type CentralRecord,
  type EndRecord,
  type LocalRecord,
  findEocd,
  readCentral,
  readEndRecord,
  readLocal,
  sameBytes,
  sigAt,
  SIG_CENTRAL,
  SIG_LOCAL,
} from './records.ts';
import type { ZipAnomaly, ZipDirectory, ZipEntry, ZipLimits } from './types.ts';

const METHODS: Record<number, string> = { 9: 'deflate64', 12: 'bzip2', 14: 'lzma', 93: 'zstd', 95: 'xz', 98: 'ppmd', 99: 'AES' };
// Bits a normal writer sets: 0x2/0x4 (compression options), 0x8 (data descriptor), 0x800 (UTF-8 names).
const ORDINARY_FLAGS = 0x080e;
const FLAG_NAMES: Record<number, string> = { 0x1: 'encrypted', 0x10: 'enhanced deflate', 0x20: 'patched data', 0x40: 'strong encryption', 0x2000: 'masked directory' };

const hex = (n: number): string => `0x${n.toString(16)}`;

export function looksLikeZip(src: ByteSource): boolean {
  return sigAt(src, 0, SIG_LOCAL) || findEocd(src) >= 0;
}

export function readZipDirectory(src: ByteSource, limits: ZipLimits): ZipDirectory {
  const eocdOffset = findEocd(src);
  if (eocdOffset < 0) throw new FormatError('ZIP_NO_EOCD', 'no end-of-central-directory record in the last 64 KiB', null);
  const end = readEndRecord(src, eocdOffset);
  const anomalies: ZipAnomaly[] = [];
  // Checked before walking: a declared count is never used to size anything, but a count beyond the budget
  // means loaders that trust it (miniz) would allocate for it; we refuse to pretend we inspected such a file.
  if (end.declaredEntries > limits.maxEntries) {
    throw new LimitError('ZIP_ENTRIES', `zip declares ${end.declaredEntries} entries, limit ${limits.maxEntries}`, eocdOffset);
  }
  const { cdStart, shift } = locateDirectory(src, end, anomalies);

  const central = walkDirectory(src, cdStart, end.cdSize, end.declaredEntries, limits, anomalies);
  // Local headers in file order: sequential reads keep a FileSource's window useful.
  const locals = new Map<number, LocalRecord | null>();
  for (const c of [...central].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset)) {
    locals.set(c.index, readLocal(src, c.localHeaderOffset + shift));
  }

  const entries: ZipEntry[] = central.map((c) => {
    const l = locals.get(c.index) ?? null;
    return {
      index: c.index,
      name: c.name,
      localName: l ? l.name : null,
      method: c.method,
      flags: c.flags,
      localFlags: l ? l.flags : null,
      crc32: c.crc32,
      compressedSize: c.csize,
      uncompressedSize: c.usize,
      localHeaderOffset: c.localHeaderOffset + shift,
      dataOffset: l ? l.dataOffset : -1,
    };
  });

  // reduce, not Math.min(...): spreading 100k+ arguments overflows the stack.
  const firstHeader = entries.reduce((m, e) => (e.dataOffset >= 0 && e.localHeaderOffset < m ? e.localHeaderOffset : m), Infinity);
  const prefixBytes = firstHeader !== Infinity ? firstHeader : Math.max(0, shift);
  if (prefixBytes > 0) {
    anomalies.unshift({
      kind: 'prefix-data',
      entry: null,
      offset: 0,
      detail: `${prefixBytes} bytes precede the first local header${shift ? ` (directory offsets are off by ${shift})` : ''}: a polyglot — Python's zipfile finds the zip anyway, PyTorch requires PK\\3\\4 at offset 0 and other readers may see the prefix as a different file`,
    });
  }
  const trailing = eocdOffset + 22 + end.commentLength;
  if (trailing < src.size) {
    anomalies.push({ kind: 'trailing-data', entry: null, offset: trailing, detail: `${src.size - trailing} bytes follow the end-of-central-directory record and its comment` });
  }
  for (const c of central) checkEntry(c, entries[c.index], locals.get(c.index) ?? null, anomalies);
  checkDuplicates(entries, anomalies);
  checkOverlaps(entries, cdStart, cdStart + end.cdSize, anomalies);
  return { entries, anomalies, prefixBytes, eocdOffset };
}

/**
 * Where the directory really starts. If it does not sit where the EOCD says, Python computes the size of
 * prepended data as (where the directory ends) − size − (declared offset) and shifts every offset by it;
 * miniz trusts the declared offset. We follow whichever finds a directory, and flag when both do and differ.
 */
function locateDirectory(src: ByteSource, end: EndRecord, anomalies: ZipAnomaly[]): { cdStart: number; shift: number } {
  if (end.cdSize > end.endOfDirectory) {
    throw new FormatError('ZIP_CD_SIZE', `central directory size ${end.cdSize} exceeds the ${end.endOfDirectory} bytes before its end record`, end.eocdOffset);
  }
  const realStart = end.endOfDirectory - end.cdSize;
  const shift = realStart - end.cdOffset;
  if (shift === 0 || end.cdSize === 0) return { cdStart: realStart, shift };
  const declaredOk = sigAt(src, end.cdOffset, SIG_CENTRAL);
  const shiftedOk = sigAt(src, realStart, SIG_CENTRAL);
  if (declaredOk) {
    if (shiftedOk) {
      anomalies.push({
        kind: 'size-mismatch',
        entry: null,
        offset: realStart,
        detail: `two central directories: miniz/PyTorch reads the one at ${end.cdOffset}, Python's zipfile the one at ${realStart}; only the first was read`,
      });
    }
    return { cdStart: end.cdOffset, shift: 0 };
  }
  if (shiftedOk) return { cdStart: realStart, shift };
  throw new FormatError('ZIP_NO_CD', `no central directory at ${end.cdOffset} (declared) or ${realStart} (end record minus size)`, end.eocdOffset);
}

/**
 * Walks records within the directory's declared size (Python's loop) but also compares with the declared
 * count (miniz's loop): any difference means the two loaders list different members.
 */
function walkDirectory(src: ByteSource, cdStart: number, cdSize: number, declared: number, limits: ZipLimits, anomalies: ZipAnomaly[]): CentralRecord[] {
  const out: CentralRecord[] = [];
  const cdEnd = cdStart + cdSize;
  let pos = cdStart;
  while (pos < cdEnd) {
    const rec = readCentral(src, pos, out.length);
    if (!rec) {
      // Junk after the declared entries: miniz stops in time, Python raises. Before them: nobody can read it.
      if (out.length > 0 && out.length >= declared) {
        anomalies.push({ kind: 'entry-count-mismatch', entry: null, offset: pos, detail: `${cdEnd - pos} bytes of non-directory data after the ${out.length} declared entries; Python's zipfile refuses this archive` });
        return out;
      }
      throw new FormatError('ZIP_CD_BAD_SIG', `central directory entry #${out.length} at ${pos} has no signature`, pos);
    }
    if (out.length >= limits.maxEntries) throw new LimitError('ZIP_ENTRIES', `zip has more than ${limits.maxEntries} entries`, pos);
    out.push(rec);
    pos += rec.recordLength;
  }
  if (pos > cdEnd) {
    anomalies.push({ kind: 'size-mismatch', entry: null, offset: cdStart, detail: `central directory records run ${pos - cdEnd} bytes past its declared size ${cdSize}` });
  }
  if (out.length !== declared) {
    anomalies.push({ kind: 'entry-count-mismatch', entry: null, offset: cdStart, detail: `end record declares ${declared} entries, the directory holds ${out.length}; miniz (PyTorch) and Python's zipfile list different members` });
  }
  return out;
}

function checkEntry(c: CentralRecord, e: ZipEntry, l: LocalRecord | null, out: ZipAnomaly[]): void {
  const add = (kind: ZipAnomaly['kind'], detail: string): void => {
    out.push({ kind, entry: e.name, offset: e.localHeaderOffset, detail, indices: [e.index] });
  };
  for (const name of new Set([e.name, e.localName ?? e.name, c.unicodePath ?? e.name])) {
    if (/^[\\/]|^[A-Za-z]:/.test(name)) add('absolute-path', `name "${name}" is absolute`);
    if (name.split(/[\\/]/).includes('..')) add('path-traversal', `name "${name}" climbs out with ".."`);
  }
  if (((c.externalAttrs >>> 16) & 0o170000) === 0o120000) add('symlink', 'unix mode marks this entry as a symbolic link');

  if (c.flags & 0x1) add('encrypted', 'flag bit 0x1 marks the entry encrypted: Python refuses it without a password, PyTorch ignores the bit');
  const odd = c.flags & ~ORDINARY_FLAGS;
  if (odd) {
    const names = Object.entries(FLAG_NAMES).filter(([b]) => odd & Number(b)).map(([b, n]) => `${hex(Number(b))} ${n}`);
    add('flag-bits', `unusual general-purpose flags ${hex(odd)}${names.length ? ` (${names.join(', ')})` : ''}: Python's zipfile refuses or mis-reads such entries while PyTorch ignores them`);
  }
  if (c.method !== 0 && c.method !== 8) add('unsupported-method', `compression method ${c.method}${METHODS[c.method] ? ` (${METHODS[c.method]})` : ''} is neither stored nor deflate`);

  if (!l) {
    add('local-header-missing', `no local header at ${e.localHeaderOffset}`);
    return;
  }
  if (!sameBytes(l.nameBytes, c.nameBytes)) add('name-mismatch', `local header names "${l.name}", central directory "${c.name}": PyTorch uses the central name, Python's zipfile refuses, streaming readers use the local one`);
  if (c.unicodePath !== null && c.unicodePath !== c.name) add('name-mismatch', `Unicode Path extra field names "${c.unicodePath}", the header "${c.name}": readers that honour the extra field see another name`);
  if (l.flags !== c.flags) add('flag-bits', `local flags ${hex(l.flags)} differ from central flags ${hex(c.flags)}`);
  if (l.method !== c.method) add('method-mismatch', `local header says method ${l.method}, central directory ${c.method}: streaming readers decode the data differently`);
  if (!(l.flags & 0x8) && (l.csize !== c.csize || l.usize !== c.usize)) {
    add('size-mismatch', `local sizes ${l.csize}/${l.usize} differ from central ${c.csize}/${c.usize} (compressed/uncompressed) without a data descriptor`);
  }
  if (c.method === 0 && c.csize !== c.usize) add('size-mismatch', `stored entry with compressed size ${c.csize} but uncompressed size ${c.usize}`);
}

// Python's zipfile opens the LAST entry of a name, PyTorch 1.13's miniz the FIRST — and miniz compares names
// case-insensitively (ASCII), so names differing only in case are duplicates to PyTorch too.
function checkDuplicates(entries: ZipEntry[], out: ZipAnomaly[]): void {
  const exact = new Map<string, number>();
  const folded = new Map<string, number>();
  for (const e of entries) {
    const key = e.name.replace(/[A-Z]/g, (ch) => ch.toLowerCase());
    const first = exact.get(e.name);
    const firstFolded = folded.get(key);
    if (first !== undefined) {
      out.push({ kind: 'duplicate-name', entry: e.name, offset: e.localHeaderOffset, indices: [first, e.index], detail: `entries #${first} and #${e.index} share the name: Python's zipfile opens the last, PyTorch 1.13 the first` });
    } else if (firstFolded !== undefined) {
      out.push({ kind: 'duplicate-name', entry: e.name, offset: e.localHeaderOffset, indices: [firstFolded, e.index], detail: `entries #${firstFolded} ("${entries[firstFolded].name}") and #${e.index} differ only in case: PyTorch's case-insensitive lookup may pick either` });
    }
    if (first === undefined) exact.set(e.name, e.index);
    if (firstFolded === undefined) folded.set(key, e.index);
  }
}

/** Entries whose [local header, end of data) ranges overlap each other or the central directory (overlap zip bombs, shared payloads). */
function checkOverlaps(entries: ZipEntry[], cdStart: number, cdEnd: number, out: ZipAnomaly[]): void {
  const ranges = entries
    .filter((e) => e.dataOffset >= 0)
    .map((e) => ({ e, start: e.localHeaderOffset, end: e.dataOffset + e.compressedSize }))
    .sort((a, b) => a.start - b.start || a.e.index - b.e.index);
  let reach: (typeof ranges)[number] | null = null;
  for (const r of ranges) {
    if (reach && r.start < reach.end) {
      out.push({ kind: 'overlap', entry: r.e.name, offset: r.start, indices: [reach.e.index, r.e.index], detail: `entry #${r.e.index} [${r.start}, ${r.end}) overlaps entry #${reach.e.index} [${reach.start}, ${reach.end})` });
    }
    if (!reach || r.end > reach.end) reach = r;
    if (r.start < cdEnd && r.end > cdStart) {
      out.push({ kind: 'overlap', entry: r.e.name, offset: r.start, indices: [r.e.index], detail: `entry #${r.e.index} [${r.start}, ${r.end}) runs into the central directory [${cdStart}, ${cdEnd})` });
    }
  }
}
