// Public shapes of the ZIP directory reader. Pure data: the scanner maps anomalies to rules and severities.

export interface ZipEntry {
  /** Position in the central directory. */
  index: number;
  /** Central-directory name (UTF-8 if flag 0x800, else CP437) — the name PyTorch and Python look up. */
  name: string;
  /** Name in the local header, null if the local header is unreadable. */
  localName: string | null;
  /** Compression method from the central directory (0 stored, 8 deflate, others reported). */
  method: number;
  /** Central general-purpose flags. */
  flags: number;
  localFlags: number | null;
  crc32: number;
  /** Central sizes, ZIP64 aware: every loader takes the sizes from the central directory. */
  compressedSize: number;
  uncompressedSize: number;
  /** Absolute offset in the source (after adjusting for prepended data). */
  localHeaderOffset: number;
  /** Absolute offset of the member's data (after local header + name + extra); -1 if the local header is missing. */
  dataOffset: number;
}

export type ZipAnomalyKind =
  | 'prefix-data'
  | 'name-mismatch'
  | 'duplicate-name'
  | 'flag-bits'
  | 'encrypted'
  | 'unsupported-method'
  | 'method-mismatch'
  | 'size-mismatch'
  | 'overlap'
  | 'local-header-missing'
  | 'path-traversal'
  | 'absolute-path'
  | 'trailing-data'
  | 'entry-count-mismatch'
  | 'symlink';

export interface ZipAnomaly {
  kind: ZipAnomalyKind;
  entry: string | null;
  offset: number;
  detail: string;
  /** Central-directory indices involved (two for duplicate-name and overlap); absent for archive-level anomalies. */
  indices?: number[];
}

export interface ZipDirectory {
  entries: ZipEntry[];
  anomalies: ZipAnomaly[];
  /** Bytes before the first local header (0 for an ordinary zip; >0 for a polyglot or self-extractor). */
  prefixBytes: number;
  eocdOffset: number;
}

export interface ZipLimits {
  maxEntries: number;
}
