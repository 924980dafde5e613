// TAR directory reader (v7, ustar, GNU, pax). A pure parser of hostile bytes: it walks headers, never copies
// member data (read it as `new SliceSource(src, e.dataOffset, e.size)`), and mirrors Python's tarfile —
// the reader ML tooling uses — where tar implementations disagree.
import { FormatError, LimitError } from '../errors.ts';
import type { ByteSource } from '../source.ts';

export interface TarEntry {
  name: string;
  size: number;
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';
  /** The raw typeflag character ('\0' for old v7 regular files). */
  typeflag: string;
  linkName: string | null;
  dataOffset: number;
  headerOffset: number;
}

export interface TarAnomaly {
  /** 'bad-checksum' also covers other invalid headers (unparseable size field, malformed pax record). */
  kind: 'path-traversal' | 'absolute-path' | 'bad-checksum' | 'truncated' | 'link' | 'duplicate-name';
  entry: string | null;
  offset: number;
  detail: string;
}

const BLOCK = 512;
/** GNU long names and pax records are read into memory; real ones are a few hundred bytes. */
const MAX_META = 1 << 20;
const utf8 = new TextDecoder('utf-8');

/** A NUL-terminated string field. */
function field(b: Uint8Array, off: number, len: number): string {
  const f = b.subarray(off, off + len);
  const nul = f.indexOf(0);
  return utf8.decode(nul < 0 ? f : f.subarray(0, nul));
}

/** Octal (NUL/space padded) or GNU base-256 (high bit set); null when invalid or negative. */
function number(b: Uint8Array, off: number, len: number): number | null {
  if (b[off] & 0x80) {
    if (b[off] === 0xff) return null; // negative base-256
    let v = b[off] & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + b[off + i];
    return Number.isSafeInteger(v) ? v : null;
  }
  const s = field(b, off, len).trim();
  if (s === '') return 0;
  return /^[0-7]+$/.test(s) && Number.isSafeInteger(parseInt(s, 8)) ? parseInt(s, 8) : null;
}

/** Python accepts either the unsigned or the signed byte sum (some old tars summed signed chars). */
function checksumOk(h: Uint8Array): boolean {
  const stored = number(h, 148, 8);
  if (stored === null) return false;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const v = i >= 148 && i < 156 ? 0x20 : h[i];
    unsigned += v;
    signed += v > 127 ? v - 256 : v;
  }
  return stored === unsigned || stored === signed;
}

const isZero = (b: Uint8Array): boolean => b.every((x) => x === 0);
const roundUp = (n: number): number => Math.ceil(n / BLOCK) * BLOCK;

export function looksLikeTar(head: Uint8Array): boolean {
  if (head.length < BLOCK) return false;
  if (field(head, 257, 6) === 'ustar' || field(head, 257, 8) === 'ustar  ') return true;
  return !isZero(head.subarray(0, BLOCK)) && checksumOk(head);
}

/** pax records "LEN key=value\n"; null when malformed (Python's tarfile then rejects the header). */
function parsePax(data: Uint8Array): Map<string, string> | null {
  const out = new Map<string, string>();
  let p = 0;
  while (p < data.length && data[p] !== 0) {
    let q = p;
    let len = 0;
    while (q < data.length && data[q] >= 0x30 && data[q] <= 0x39 && q - p < 12) len = len * 10 + data[q++] - 0x30;
    if (q === p || data[q] !== 0x20 || len < 5 || p + len > data.length || data[p + len - 1] !== 0x0a) return null;
    const rec = data.subarray(q + 1, p + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq <= 0) return null;
    out.set(utf8.decode(rec.subarray(0, eq)), utf8.decode(rec.subarray(eq + 1)));
    p += len;
  }
  return out;
}

function typeOf(flag: string, name: string): TarEntry['type'] {
  if (flag === '0' || flag === '7' || flag === 'S') return 'file';
  if (flag === '\0') return name.endsWith('/') ? 'dir' : 'file'; // v7: a trailing slash means directory
  if (flag === '5') return 'dir';
  if (flag === '2') return 'symlink';
  if (flag === '1') return 'hardlink';
  return 'other';
}

// Types whose size field Python's tarfile does not skip: their "data" is parsed as the next header.
const NO_DATA = new Set(['1', '2', '3', '4', '5', '6']);

const isAbsolute = (p: string): boolean => /^[\\/]|^[A-Za-z]:/.test(p);
const climbs = (p: string): boolean => p.split(/[\\/]/).includes('..');

export function readTarEntries(src: ByteSource, limits: { maxEntries: number }): { entries: TarEntry[]; anomalies: TarAnomaly[] } {
  const entries: TarEntry[] = [];
  const anomalies: TarAnomaly[] = [];
  const seen = new Map<string, number>();
  const globalPax = new Map<string, string>();
  let localPax = new Map<string, string>();
  let longName: string | null = null;
  let longLink: string | null = null;
  let headers = 0;
  let zeros = 0;
  let pos = 0;

  /** Bad header: fatal if nothing was read yet (it is not a tar), otherwise the walk ends here. */
  const invalid = (detail: string): void => {
    if (headers === 0) throw new FormatError('TAR_HEADER', `not a tar archive: ${detail} at offset ${pos}`, pos);
    anomalies.push({ kind: 'bad-checksum', entry: null, offset: pos, detail: `${detail}; the walk stops here and later members are not listed` });
  };

  while (pos < src.size) {
    const h = src.read(pos, BLOCK).slice();
    if (h.length < BLOCK) {
      if (!isZero(h)) anomalies.push({ kind: 'truncated', entry: null, offset: pos, detail: `partial ${h.length}-byte header block at the end` });
      break;
    }
    // Two zero blocks end the archive. After a lone one Python stops but GNU tar reads on; we read on, so
    // members hidden behind a single zero block are still listed.
    if (isZero(h)) {
      pos += BLOCK;
      if (++zeros >= 2) break;
      continue;
    }
    zeros = 0;
    if (!checksumOk(h)) {
      invalid('header checksum mismatch');
      break;
    }
    const flag = String.fromCharCode(h[156]);
    const declared = number(h, 124, 12);
    if (declared === null) {
      invalid('unparseable size field');
      break;
    }
    headers++;
    const dataOffset = pos + BLOCK;

    if (flag === 'L' || flag === 'K' || flag === 'x' || flag === 'g') {
      if (declared > MAX_META) throw new LimitError('TAR_META', `${declared}-byte ${flag} header exceeds ${MAX_META} bytes`, pos);
      if (dataOffset + declared > src.size) {
        anomalies.push({ kind: 'truncated', entry: null, offset: pos, detail: `'${flag}' header data runs past the end of the file` });
        break;
      }
      const data = src.read(dataOffset, declared).slice();
      if (flag === 'L') longName = field(data, 0, data.length);
      else if (flag === 'K') longLink = field(data, 0, data.length);
      else {
        const pax = parsePax(data);
        if (!pax) {
          invalid('malformed pax extended header');
          break;
        }
        for (const [k, v] of pax) (flag === 'g' ? globalPax : localPax).set(k, v);
      }
      pos = dataOffset + roundUp(declared);
      continue;
    }

    // Name: ustar prefix (Python applies it whenever present, except for GNU types), then GNU long name, then pax.
    let name = field(h, 0, 100);
    const prefix = field(h, 345, 155);
    if (prefix && flag !== 'S') name = `${prefix}/${name}`;
    let linkName: string | null = field(h, 157, 100) || null;
    let size = declared;
    if (longName !== null) name = longName;
    if (longLink !== null) linkName = longLink;
    // POSIX (and GNU tar) apply global 'g' records to every following member; Python's tarfile applies them
    // only through a later 'x' header. We take the wider view so a global path cannot hide a traversal.
    const pax = new Map([...globalPax, ...localPax]);
    if (pax.has('path')) name = pax.get('path')!;
    if (pax.has('linkpath')) linkName = pax.get('linkpath')!;
    const paxSize = pax.get('size');
    if (paxSize !== undefined) {
      if (!/^\d+$/.test(paxSize) || !Number.isSafeInteger(Number(paxSize))) {
        invalid(`invalid pax size "${paxSize.slice(0, 40)}"`);
        break;
      }
      size = Number(paxSize);
    }
    longName = longLink = null;
    localPax = new Map();

    // Old GNU sparse: extension blocks with more sparse maps follow the header while the "extended" byte is set.
    let start = dataOffset;
    for (let ext = flag === 'S' ? h[482] : 0; ext && start + BLOCK <= src.size; start += BLOCK) ext = src.read(start, BLOCK)[504];

    const type = typeOf(flag, name);
    if (type === 'symlink' || type === 'hardlink') linkName ??= '';
    else linkName = null;
    const entry: TarEntry = { name, size, type, typeflag: flag, linkName, dataOffset: start, headerOffset: pos };
    if (entries.length >= limits.maxEntries) throw new LimitError('TAR_ENTRIES', `tar has more than ${limits.maxEntries} entries`, pos);
    entries.push(entry);
    checkEntry(entry, seen, anomalies);

    const skipsData = !NO_DATA.has(flag);
    if (skipsData && start + size > src.size) {
      anomalies.push({ kind: 'truncated', entry: name, offset: pos, detail: `${size} data bytes at ${start} run past the end of the file (${src.size})` });
      break;
    }
    if (!skipsData && size > 0 && linkName !== null) {
      anomalies.push({ kind: 'link', entry: name, offset: pos, detail: `link declares ${size} data bytes: Python's tarfile reads them as headers, GNU tar skips them` });
    }
    pos = start + (skipsData ? roundUp(size) : 0);
  }
  return { entries, anomalies };
}

function checkEntry(e: TarEntry, seen: Map<string, number>, out: TarAnomaly[]): void {
  const add = (kind: TarAnomaly['kind'], detail: string): void => {
    out.push({ kind, entry: e.name, offset: e.headerOffset, detail });
  };
  if (isAbsolute(e.name)) add('absolute-path', `name "${e.name}" is absolute`);
  if (climbs(e.name)) add('path-traversal', `name "${e.name}" climbs out with ".."`);
  if (e.linkName !== null) {
    add('link', `${e.type} to "${e.linkName}"`);
    if (isAbsolute(e.linkName)) add('absolute-path', `${e.type} target "${e.linkName}" is absolute`);
    if (climbs(e.linkName)) add('path-traversal', `${e.type} target "${e.linkName}" climbs out with ".."`);
  }
  // Directories legitimately repeat (incremental archives); a repeated file name means extractors and
  // tarfile.getmember() (which returns the last) see a different member than a first-match reader.
  if (e.type === 'dir') return;
  const first = seen.get(e.name);
  if (first !== undefined) add('duplicate-name', `"${e.name}" also appears in the header at ${first}; tarfile.getmember() and extraction keep the last`);
  else seen.set(e.name, e.headerOffset);
}
