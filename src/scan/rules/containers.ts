import type { Rule } from '../model.ts';

const rule = (r: Rule): Rule => r;

export const containerRules: Rule[] = [
  rule({
    id: 'MG-ZIP-001',
    severity: 'high',
    title: 'Zip archive has duplicate member names',
    detects: 'Two central-directory entries with the same name.',
    why: 'Readers disagree on which copy they open (Python\'s zipfile takes the last, PyTorch 1.13 the first), so a payload can sit in the copy the scanner skips. modelgate scans every copy.',
    fix: 'Do not load the file; archives written by torch.save or numpy never repeat a name.',
    references: ['https://github.com/mmaitre314/picklescan'],
  }),
  rule({
    id: 'MG-ZIP-002',
    severity: 'high',
    title: 'Zip local and central headers disagree',
    detects: 'A member whose name or sizes differ between its local header and the central directory.',
    why: 'Python\'s zipfile rejects such archives while PyTorch loads them, so scanners built on zipfile skip a file the loader runs (CVE-2025-1944).',
    fix: 'Do not load the file; re-export it from a trusted copy.',
    references: ['CVE-2025-1944'],
  }),
  rule({
    id: 'MG-ZIP-003',
    severity: 'medium',
    title: 'Zip member has unusual flag bits or a wrong CRC',
    detects: 'General-purpose flag bits (encryption 0x1, 0x20, 0x40, …) set on a member, local/central flags that differ, or a CRC-32 that does not match the data.',
    why: 'Python\'s zipfile refuses these members while PyTorch ignores flags and CRCs (CVE-2025-1945, CVE-2025-10156), a known way to blind scanners. modelgate scans the member anyway.',
    fix: 'Treat the archive as tampered with; obtain a clean copy.',
    references: ['CVE-2025-1945', 'CVE-2025-10156'],
  }),
  rule({
    id: 'MG-ZIP-004',
    severity: 'medium',
    title: 'Data before or around the archive',
    detects: 'Bytes before the first zip member (a prefix) or between/after members that no entry accounts for.',
    why: 'A file that is both a pickle and a zip (polyglot) is loaded as whichever a loader checks first; modelgate scans every interpretation.',
    fix: 'Do not load the file unless the prefix is explained (self-extracting archives are not model files).',
    references: ['https://github.com/trailofbits/fickling/blob/master/fickling/polyglot.py'],
  }),
  rule({
    id: 'MG-ARC-001',
    severity: 'high',
    title: 'Archive member path escapes the extraction folder',
    detects: 'A member name with `..` components, an absolute path, or a symlink/hardlink member.',
    why: 'Extracting the archive writes outside the target folder (zip-slip), overwriting code or configuration.',
    fix: 'Never extract it with tools that follow names blindly; re-pack it from trusted contents.',
    references: ['https://security.snyk.io/research/zip-slip-vulnerability'],
  }),
  rule({
    id: 'MG-ARC-002',
    severity: 'medium',
    title: 'Archive could not be read completely',
    detects: 'A zip, tar, 7z or compressed stream that is truncated, corrupt, encrypted or uses an unsupported method, so some members were not inspected.',
    why: 'What was not read was not scanned; a loader may still read it.',
    fix: 'Obtain an intact copy; the file stays in `error` status until then.',
    references: [],
  }),
  rule({
    id: 'MG-LIM-001',
    severity: 'medium',
    title: 'A scan budget was exceeded',
    detects: 'A bound on archive depth, member count, decompressed bytes, compression ratio, parser stack/memo, opcode count or time was reached.',
    why: 'Hostile files use bombs and expansion to exhaust scanners; the part beyond the bound was not inspected, so the file cannot be called clean.',
    fix: 'Raise the bound explicitly (see `modelgate scan --help`) if the file is legitimately large, or reject it.',
    references: ['https://www.bamsoftware.com/hacks/zipbomb/'],
  }),
];
