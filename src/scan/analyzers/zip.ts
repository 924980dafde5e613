// Zip archives: PyTorch checkpoints (torch.save), TorchScript (torch.jit.save), numpy .npz and generic
// zips. Every central-directory entry is visited by index, so duplicate names cannot hide a member, and
// every way the readers of this format disagree is reported.
import { looksLikeZip, openZipEntry, readZipDirectory, verifyZipEntryCrc, type ZipDirectory, type ZipEntry } from '../../formats/zip/index.ts';
import { SliceSource, readAll, type ByteSource } from '../../formats/source.ts';
import { looksLikePickleStart } from '../../formats/pickle/index.ts';
import { analyzePickle } from './pickle.ts';
import type { Analyzer } from './types.ts';
import type { Entry, InputScan } from '../context.ts';

const ANOMALY_RULE: Record<string, string> = {
  'prefix-data': 'MG-ZIP-004', 'trailing-data': 'MG-ZIP-004',
  'duplicate-name': 'MG-ZIP-001',
  'name-mismatch': 'MG-ZIP-002', 'size-mismatch': 'MG-ZIP-002', 'method-mismatch': 'MG-ZIP-002', overlap: 'MG-ZIP-002', 'entry-count-mismatch': 'MG-ZIP-002',
  'flag-bits': 'MG-ZIP-003', encrypted: 'MG-ZIP-003',
  'unsupported-method': 'MG-ARC-002', 'local-header-missing': 'MG-ARC-002',
  'path-traversal': 'MG-ARC-001', 'absolute-path': 'MG-ARC-001', symlink: 'MG-ARC-001',
};

const TORCHSCRIPT_CODE_RISK: Array<[RegExp, string]> = [
  [/torch\.ops\.load_library|load_library\s*\(/, 'loads a native library'],
  [/\b(eval|exec|compile|__import__)\s*\(/, 'calls eval/exec/compile/__import__'],
  [/\b(os|subprocess|sys|shutil|socket|builtins)\.[a-z_]+/, 'references os/subprocess/sys/shutil/socket/builtins'],
  [/\bopen\s*\(/, 'opens files'],
];

export const zipAnalyzer: Analyzer = {
  id: 'zip',
  version: 1,
  detect: (head, entry) => (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) || (head[0] === 0x50 && head[1] === 0x4b && looksLikeZip(entry.source)),
  async analyze(entry, input, walk) {
    const dir = readZipDirectory(entry.source, { maxEntries: input.limits.maxEntries });
    input.countEntries(dir.entries.length);
    await scanZip(entry, input, walk, dir);
  },
};

/** Also used for files that are something else first (a pickle glued in front of a zip). */
export async function scanZip(entry: Entry, input: InputScan, walk: Parameters<Analyzer['analyze']>[2], dir: ZipDirectory): Promise<void> {
  const src = entry.source;
  for (const a of dir.anomalies) {
    input.report(entry, {
      ruleId: ANOMALY_RULE[a.kind] ?? 'MG-ARC-002',
      offset: a.offset,
      message: `Zip ${a.kind}${a.entry ? ` for "${a.entry}"` : ''}: ${a.detail}.`,
      evidence: { kind: a.kind, member: a.entry },
    });
  }
  if (dir.prefixBytes > 0) {
    const head = src.read(0, 2);
    if (looksLikePickleStart(head[0], head[1])) {
      const r = analyzePickle(input, entry, new SliceSource(src, 0, dir.prefixBytes), { path: `${entry.path}!<prefix>` });
      if (r.incomplete) entry.row.status = 'error';
    }
  }
  const names = dir.entries.map((e) => e.name);
  const isTorch = names.some((n) => /(^|\/)data\.pkl$/.test(n));
  const isTorchScript = isTorch && names.some((n) => /(^|\/)code\//.test(n) || /(^|\/)constants\.pkl$/.test(n));
  const isNpz = !isTorch && names.length > 0 && names.every((n) => n.endsWith('.npy'));
  if (isTorch) {
    entry.row.format = isTorchScript ? 'torchscript' : 'pytorch-zip';
    const roots = new Set(names.filter((n) => /(^|\/)data\.pkl$/.test(n)).map((n) => n.replace(/data\.pkl$/, '')));
    if (roots.size > 1) {
      input.report(entry, { ruleId: 'MG-PT-003', message: `The archive holds ${roots.size} data.pkl files in different folders; every one was scanned.`, evidence: { roots: [...roots] } });
    }
    for (const e of dir.entries) {
      input.checkTime();
      if (e.dataOffset < 0 || e.name.endsWith('/')) continue;
      const memberPath = `${entry.path}!${e.name}`;
      const data = isPickleMember(entry, input, e);
      if (!data) continue;
      if (!verifyZipEntryCrc(src, e, data)) {
        input.report(entry, { ruleId: 'MG-ZIP-003', path: memberPath, offset: e.localHeaderOffset, message: `CRC-32 of "${e.name}" does not match its data; PyTorch loads it anyway, so it was scanned.` });
      }
      const r = analyzePickle(input, entry, data, { path: memberPath, pickles: 1 });
      if (r.incomplete) entry.row.status = 'error';
    }
    if (isTorchScript) reportTorchScriptCode(entry, input, dir.entries);
    return;
  }
  const isKeras = names.includes('config.json') && (names.includes('metadata.json') || names.some((n) => n.endsWith('.weights.h5')));
  entry.row.format = isNpz ? 'npz' : isKeras ? 'keras' : 'zip';
  for (const e of dir.entries) {
    input.checkTime();
    if (e.dataOffset < 0 || e.name.endsWith('/')) continue;
    const data = openMember(entry, input, e, `${entry.path}!${e.name}`);
    if (!data) continue;
    if (data.size <= 64 << 20 && !verifyZipEntryCrc(src, e, data)) {
      input.report(entry, { ruleId: 'MG-ZIP-003', path: `${entry.path}!${e.name}`, offset: e.localHeaderOffset, message: `CRC-32 of "${e.name}" does not match its data; it was scanned anyway.` });
    }
    await walk(entry, e.name, data);
  }
}

/** Members PyTorch unpickles by name, plus any member whose bytes start like a pickle. */
function isPickleMember(entry: Entry, input: InputScan, e: ZipEntry): ByteSource | null {
  const byName = /\.pkl$|debug_pkl$/.test(e.name);
  if (!byName && e.method === 0) {
    const head = entry.source.read(e.dataOffset, 2);
    if (!(head.length === 2 && head[0] === 0x80 && head[1] >= 2 && head[1] <= 5)) return null;
  }
  if (!byName && e.uncompressedSize > 256 << 20) return null;
  const data = openMember(entry, input, e, `${entry.path}!${e.name}`);
  if (!data || byName) return data;
  const head = data.read(0, 2);
  return head[0] === 0x80 && head[1] >= 2 && head[1] <= 5 ? data : null;
}

function openMember(entry: Entry, input: InputScan, e: ZipEntry, path: string): ByteSource | null {
  try {
    // Deflated members count against the input's decompression budget and the ratio bound (bombs).
    const room = e.method === 0 ? Number.MAX_SAFE_INTEGER : Math.min(input.reserveDecompressed(0), Math.max(1 << 20, e.compressedSize * input.limits.maxRatio));
    const data = openZipEntry(entry.source, e, { maxBytes: room });
    if (e.method !== 0) input.decompressed += data.size;
    return data;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const limit = err instanceof Error && err.name === 'LimitError';
    input.report(entry, { ruleId: limit ? 'MG-LIM-001' : 'MG-ARC-002', path, offset: e.localHeaderOffset, message: `Member "${e.name}" could not be read: ${msg}.` });
    entry.row.status = 'error';
    return null;
  }
}

function reportTorchScriptCode(entry: Entry, input: InputScan, entries: ZipEntry[]): void {
  const code = entries.filter((e) => /(^|\/)code\/.+\.py$/.test(e.name));
  const risky: string[] = [];
  let budget = 16 << 20;
  for (const e of code) {
    if (e.uncompressedSize > budget) break;
    const data = openMember(entry, input, e, `${entry.path}!${e.name}`);
    if (!data) continue;
    budget -= data.size;
    const text = Buffer.from(readAll(data)).toString('utf8');
    for (const [re, what] of TORCHSCRIPT_CODE_RISK) {
      const m = re.exec(text);
      if (m) risky.push(`${e.name}: ${what} (${m[0]})`);
    }
  }
  input.report(entry, {
    ruleId: 'MG-PT-001',
    message: `TorchScript archive carries ${code.length} code file${code.length === 1 ? '' : 's'} that torch.jit.load compiles and runs.`,
    evidence: { codeFiles: code.map((e) => e.name).slice(0, 100) },
  });
  for (const r of risky.slice(0, 20)) input.report(entry, { ruleId: 'MG-PT-002', message: `TorchScript code ${r}.`, evidence: { detail: r } });
}

export { looksLikeZip, readZipDirectory };
