// ZIP directory reader: a pure parser of hostile bytes that mirrors PyTorch's miniz and Python's zipfile and
// reports every difference between them. No policy, no severity; reads only through the ByteSource.
export type { ZipAnomaly, ZipAnomalyKind, ZipDirectory, ZipEntry, ZipLimits } from './types.ts';
export { looksLikeZip, readZipDirectory } from './directory.ts';
export { openZipEntry, verifyZipEntryCrc } from './member.ts';
