import { Option, type Command } from 'commander';
import { hashModel, type ModelDigest } from '../provenance/hash/index.ts';
import { ModelgateError } from '../scan/model.ts';
import { parseSize } from './scan.ts';

interface HashFlags {
  json: boolean;
  serialization: 'files' | 'shards';
  shardSize?: string;
  ignorePaths?: string[];
  ignoreGitPaths: boolean;
  allowSymlinks: boolean;
  jobs?: string;
  progress: boolean;
}

const HELP_AFTER = `
The root digest is the one OpenSSF Model Signing (model_signing) signs: SHA-256 over the raw digests
of every file (or shard) in path order. Git metadata (.git, .gitattributes, .github, .gitignore) is
left out, as model_signing does.

Exit codes:
  0  hashed
  2  usage error, unreadable path, a symlink (without --allow-symlinks) or a special file

Examples:
  modelgate hash ./my-model/                          root digest and per-file SHA-256
  modelgate hash ./my-model/ --json                   { rootDigest, files[], resources[], serialization }
  modelgate hash ./my-model/ --serialization shards   1 GB shards, as "model_signing --shard-size"
  modelgate hash ./my-model/ --ignore-paths logs tmp.txt`;

export function registerHash(program: Command): void {
  program
    .command('hash')
    .description('Per-file SHA-256 and the OpenSSF Model Signing root digest of a model folder or file')
    .argument('<path>', 'model folder or single model file')
    .option('--json', 'machine-readable output on stdout', false)
    .addOption(new Option('--serialization <method>', 'files: one digest per file; shards: fixed-size shards').choices(['files', 'shards']).default('files'))
    .option('--shard-size <bytes>', 'shard size for --serialization shards (default 1000000000)')
    .option('--ignore-paths <paths...>', 'paths to leave out (relative to the model or to the working directory)')
    .option('--no-ignore-git-paths', 'also hash .git, .gitattributes, .github and .gitignore')
    .option('--allow-symlinks', 'hash the targets of symbolic links under the links\' names', false)
    .option('--jobs <n>', 'worker threads (default: CPU count)')
    .option('--no-progress', 'no progress line on stderr (it is shown only on a terminal anyway)')
    .addHelpText('after', HELP_AFTER)
    .action(async (path: string, flags: HashFlags) => {
      const showProgress = flags.progress && process.stderr.isTTY === true;
      const started = Date.now();
      const digest = await hashModel(path, {
        serialization: flags.serialization,
        shardSize: flags.shardSize !== undefined ? parseSize(flags.shardSize) : undefined,
        ignorePaths: flags.ignorePaths,
        ignoreGitPaths: flags.ignoreGitPaths,
        allowSymlinks: flags.allowSymlinks,
        jobs: flags.jobs !== undefined ? positiveInt(flags.jobs, '--jobs') : undefined,
        onProgress: showProgress ? (p) => process.stderr.write(`\r\x1b[2K${progressLine(p.bytesDone, p.bytesTotal, started)}`) : undefined,
      });
      if (showProgress) process.stderr.write('\r\x1b[2K');
      process.stdout.write(flags.json ? `${JSON.stringify(digest, null, 2)}\n` : renderDigest(digest));
    });
}

function progressLine(done: number, total: number, started: number): string {
  const secs = Math.max(0.001, (Date.now() - started) / 1000);
  const pct = total ? Math.floor((done / total) * 100) : 100;
  return `hashing ${pct}% ${(done / 1e9).toFixed(2)}/${(total / 1e9).toFixed(2)} GB ${(done / 1e6 / secs).toFixed(0)} MB/s`;
}

/** Text output: one `digest  name` line per resource (sha256sum style), then the root digest. */
export function renderDigest(d: ModelDigest): string {
  const lines = d.resources.map((r) => `${r.digest}  ${r.name}`);
  lines.push(`root ${d.rootDigest}  (${d.serialization.method}${d.serialization.shardSize ? ` ${d.serialization.shardSize}` : ''}, ${d.resources.length} resource${d.resources.length === 1 ? '' : 's'}, ${d.bytes} bytes)`);
  return `${lines.join('\n')}\n`;
}

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new ModelgateError('USAGE', `${flag} takes a positive whole number, not "${text}"`);
  return n;
}
