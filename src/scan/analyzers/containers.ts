// Archive and compressed-stream analyzers: they yield child entries; the walker applies the budgets.
import { FormatError, LimitError } from '../../formats/errors.ts';
import { BufferSource, SliceSource, readAll } from '../../formats/source.ts';
import { readTarEntries } from '../../formats/tar/index.ts';
import { decompress, sniffCompression, type CompressionKind } from '../../formats/compress/index.ts';
import type { Analyzer } from './types.ts';

const TAR_ANOMALY_RULE: Record<string, string> = {
  'path-traversal': 'MG-ARC-001', 'absolute-path': 'MG-ARC-001', link: 'MG-ARC-001',
  'bad-checksum': 'MG-ARC-002', truncated: 'MG-ARC-002', 'duplicate-name': 'MG-ZIP-001',
};

export const tarAnalyzer: Analyzer = {
  id: 'tar',
  version: 1,
  detect: (head) => head.length >= 263 && String.fromCharCode(...head.subarray(257, 262)) === 'ustar',
  async analyze(entry, input, walk) {
    const { entries, anomalies } = readTarEntries(entry.source, { maxEntries: input.limits.maxEntries });
    input.countEntries(entries.length);
    let broken = false;
    for (const a of anomalies) {
      const ruleId = TAR_ANOMALY_RULE[a.kind] ?? 'MG-ARC-002';
      if (ruleId === 'MG-ARC-002') broken = true;
      input.report(entry, { ruleId, offset: a.offset, message: `Tar ${a.kind}${a.entry ? ` in "${a.entry}"` : ''}: ${a.detail}.`, evidence: { kind: a.kind, member: a.entry } });
    }
    for (const e of entries) {
      if (e.type !== 'file') continue;
      input.checkTime();
      await walk(entry, e.name, new SliceSource(entry.source, e.dataOffset, e.size));
    }
    if (broken) entry.row.status = 'error';
  },
};

export const sevenZipAnalyzer: Analyzer = {
  id: '7z',
  version: 1,
  // 7z magic; the WASM 7-Zip behind extract7z is loaded only when a 7z archive shows up.
  detect: (head) => head[0] === 0x37 && head[1] === 0x7a && head[2] === 0xbc && head[3] === 0xaf && head[4] === 0x27 && head[5] === 0x1c,
  async analyze(entry, input, walk) {
    const room = input.reserveDecompressed(entry.source.size);
    const { extract7z } = await import('../../formats/sevenzip/index.ts');
    const members = await extract7z(readAll(entry.source), { maxEntries: input.limits.maxEntries, maxTotalBytes: room });
    input.countEntries(members.length);
    for (const m of members) {
      input.decompressed += m.data.length;
      await walk(entry, m.name, new BufferSource(m.data));
    }
  },
};

const SUFFIX: Record<CompressionKind, RegExp> = {
  gzip: /\.(gz|gzip)$/i, zlib: /\.(z|zlib)$/i, bzip2: /\.(bz2|bzip2)$/i, xz: /\.xz$/i, lzma: /\.lzma$/i, lz4: /\.lz4$/i,
};

export const compressedAnalyzer: Analyzer = {
  id: 'compressed',
  version: 1,
  detect: (head) => sniffCompression(head) !== null,
  async analyze(entry, input, walk) {
    const kind = sniffCompression(entry.source.read(0, 64))!;
    entry.row.format = kind;
    const room = input.reserveDecompressed(0);
    const out = await decompress(kind, readAll(entry.source), { maxOutputBytes: room, maxRatio: input.limits.maxRatio });
    input.decompressed += out.length;
    const base = entry.name.split('/').pop() ?? entry.name;
    const inner = /\.tgz$/i.test(base) ? base.replace(/\.tgz$/i, '.tar') : base.replace(SUFFIX[kind], '');
    await walk(entry, inner === base ? `${base}.decompressed` : inner, new BufferSource(out));
  },
};

export function describeContainerError(e: unknown): { ruleId: string; message: string } | null {
  if (e instanceof LimitError) return { ruleId: 'MG-LIM-001', message: `Scan budget exceeded: ${e.message}; the rest was not inspected.` };
  if (e instanceof FormatError) return { ruleId: 'MG-ARC-002', message: `Could not read the archive: ${e.message}.` };
  return null;
}
