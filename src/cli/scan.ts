import { writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { scan, exitCodeFor } from '../scan/scan.ts';
import { DEFAULT_LIMITS, type ScanLimits } from '../scan/context.ts';
import { ModelgateError, parseSeverity } from '../scan/model.ts';
import { renderReport, type ReportFormat } from '../scan/render.ts';

interface ScanFlags {
  format: ReportFormat;
  failOn: string;
  output?: string;
  hash: boolean;
  jobs?: string;
  minSeverity: string;
  maxDepth?: string;
  maxEntries?: string;
  maxDecompressed?: string;
  maxRatio?: string;
  timeout?: string;
  progress: boolean;
}

const HELP_AFTER = `
Exit codes:
  0  nothing at or above --fail-on
  1  a finding at or above --fail-on (wins when a file is both dangerous and unreadable)
  2  usage error, or a file could not be fully scanned and nothing reached --fail-on (fail closed)

Examples:
  modelgate scan ./my-model/                     scan a model folder
  modelgate scan model.pt --format json          machine-readable report on stdout
  modelgate scan . --format sarif -o scan.sarif  SARIF 2.1.0 for code-scanning dashboards
  modelgate scan big.bin --no-hash --fail-on medium

Nothing is ever loaded, unpickled or extracted to disk. Files are identified by content; archives
(zip, tar, gzip, bzip2, xz, lzma, lz4, 7z) are opened in memory within the budgets below.
Rules: \`modelgate rules\`; one rule in depth: \`modelgate explain MG-PKL-001\`.`;

export function registerScan(program: Command): void {
  program
    .command('scan')
    .description('Scan model files, folders and archives without loading them')
    .argument('<paths...>', 'files, folders (recursive) or archives')
    .addOption(new Option('--format <format>', 'report format').choices(['text', 'json', 'sarif']).default('text'))
    .option('--fail-on <severity>', 'exit 1 when a finding is at or above this severity (critical|high|medium|low|info)', 'high')
    .option('-o, --output <file>', 'write the report to a file instead of stdout')
    .option('--no-hash', 'skip SHA-256 of files and members (faster; reports carry no digests)')
    .option('--jobs <n>', 'worker threads for parallel files (default: CPU count)')
    .option('--min-severity <severity>', 'lowest severity shown in text output', 'low')
    .option('--max-depth <n>', `archive nesting depth (default ${DEFAULT_LIMITS.maxDepth})`)
    .option('--max-entries <n>', `members per archive (default ${DEFAULT_LIMITS.maxEntries})`)
    .option('--max-decompressed <size>', `bytes decompressed per input, e.g. 8GiB (default ${DEFAULT_LIMITS.maxDecompressedBytes / 1024 ** 3}GiB)`)
    .option('--max-ratio <n>', `compression ratio per stream (default ${DEFAULT_LIMITS.maxRatio})`)
    .option('--timeout <seconds>', `time budget per input (default ${DEFAULT_LIMITS.timeoutMs / 1000})`)
    .option('--no-progress', 'no progress line on stderr (it is shown only on a terminal anyway)')
    .addHelpText('after', HELP_AFTER)
    .action(async (paths: string[], flags: ScanFlags) => {
      const failOn = parseSeverity(flags.failOn);
      const minSeverity = parseSeverity(flags.minSeverity);
      const limits: Partial<ScanLimits> = {};
      if (flags.maxDepth) limits.maxDepth = positiveInt(flags.maxDepth, '--max-depth');
      if (flags.maxEntries) limits.maxEntries = positiveInt(flags.maxEntries, '--max-entries');
      if (flags.maxDecompressed) limits.maxDecompressedBytes = parseSize(flags.maxDecompressed);
      if (flags.maxRatio) limits.maxRatio = positiveInt(flags.maxRatio, '--max-ratio');
      if (flags.timeout) limits.timeoutMs = positiveInt(flags.timeout, '--timeout') * 1000;
      const showProgress = flags.progress && process.stderr.isTTY === true;
      const report = await scan(paths, {
        hash: flags.hash,
        limits,
        jobs: flags.jobs ? positiveInt(flags.jobs, '--jobs') : undefined,
        onProgress: showProgress ? (p) => process.stderr.write(`\r\x1b[2K[${p.done}/${p.total}] ${p.path}`) : undefined,
      });
      if (showProgress) process.stderr.write('\r\x1b[2K');
      const code = exitCodeFor(report, failOn);
      const toFile = flags.output !== undefined;
      const color = !toFile && flags.format === 'text' && process.stdout.isTTY === true && !process.env.NO_COLOR;
      const out = renderReport(report, flags.format, { color, minSeverity, failOn, exitCode: code });
      if (toFile) {
        writeFileSync(flags.output!, out);
        const s = report.summary;
        process.stderr.write(`modelgate: ${s.files} files, max severity ${s.maxSeverity ?? 'none'}, ${s.errors} errors; report written to ${flags.output} (exit ${code})\n`);
      } else process.stdout.write(out);
      process.exitCode = code;
    });
}

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new ModelgateError('USAGE', `${flag} takes a positive whole number, not "${text}"`);
  return n;
}

export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib|t|tb|tib)?$/i.exec(text.trim());
  if (!m) throw new ModelgateError('USAGE', `cannot read size "${text}" (examples: 512MiB, 8GiB, 1000000)`);
  const unit = (m[2] ?? 'b').toLowerCase();
  const mult = unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 ** 2 : unit.startsWith('g') ? 1024 ** 3 : unit.startsWith('t') ? 1024 ** 4 : 1;
  return Math.floor(Number(m[1]) * mult);
}
