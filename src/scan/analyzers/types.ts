import type { ByteSource } from '../../formats/source.ts';
import type { Entry, InputScan } from '../context.ts';

/** Scans a child entry (an archive member, a decompressed stream) as its own report row. */
export type Walk = (parent: Entry, name: string, source: ByteSource) => Promise<void>;

/**
 * One analyzer per format, registered in one table (analyzers/index.ts). `detect` looks at content
 * first; the entry's name is only a hint. `analyze` reports findings through `input` and yields child
 * entries through `walk`; it throws FormatError/LimitError when it cannot finish.
 */
export interface Analyzer {
  id: string;
  /** Bump when results change; part of a future scan-cache key. */
  version: number;
  detect(head: Uint8Array, entry: Entry): boolean;
  analyze(entry: Entry, input: InputScan, walk: Walk): Promise<void>;
}
