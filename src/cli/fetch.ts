import type { Command } from 'commander';
import { ModelgateError } from '../scan/model.ts';
import { fetchSource, listHubFiles, sourceKind, type FetchOptions, type FetchProgress, type FetchResult } from '../provenance/sources/index.ts';
import { DEFAULT_STORE } from '../provenance/quarantine/index.ts';

export interface SourceFlags {
  store?: string;
  allowFloating?: boolean;
  endpoint?: string;
  tokenEnv?: string;
  sha256?: string;
  retries?: string;
  progress: boolean;
}

const HELP_AFTER = `
Sources:
  hf://ORG/NAME@COMMIT     a Hugging Face model at a 40-hex commit. A branch or tag (@main, @v1.0,
                           or no @) is refused unless --allow-floating; the commit it resolves to is
                           then recorded in the manifest.
  ./folder                 a local folder (every file; .git is skipped; symbolic links are refused)
  ./model.tar.gz           a local file or archive, stored as one file (never extracted)
  https://host/file        one file; --sha256 is required

Every file is verified while it streams: Hub LFS files against their SHA-256 (lfs.oid), other Hub
files against their git blob SHA-1 (sha1("blob <size>\\0" + content)), URLs against --sha256.
A file that does not match is refused and named; nothing of it is kept. Interrupted downloads resume
(HTTP Range); 429, 5xx and network errors are retried with exponential backoff.

The store (default ${DEFAULT_STORE}) is content-addressed: blobs/sha256/ab/cdef…, one manifest per
version under manifests/sha256/. Fetching the same version again downloads nothing.

Token: read from the environment variable HF_TOKEN (or the one named by --token-env), sent only to
the Hub endpoint, never printed or written.

Exit codes:
  0  the version is in quarantine, every file verified
  2  usage error, floating revision refused, download failed, or a digest did not match

Examples:
  modelgate fetch hf://acme/tiny-model@0123456789abcdef0123456789abcdef01234567
  modelgate fetch hf://acme/tiny-model@main --allow-floating --json
  modelgate fetch hf://acme/tiny-model@main --allow-floating --list   what would be fetched
  modelgate fetch ./downloaded-model/ --store /srv/quarantine
  modelgate fetch https://example.com/m.gguf --sha256 9f86d081884c7d65…`;

/** Options shared by `fetch` and `mirror` (which can fetch a source first). */
export function addSourceOptions(cmd: Command): Command {
  return cmd
    .option('--store <dir>', `quarantine store folder (default ${DEFAULT_STORE})`)
    .option('--allow-floating', 'accept a branch or tag for hf:// and record the commit it resolves to')
    .option('--endpoint <url>', 'Hub base URL (default $HF_ENDPOINT or https://huggingface.co)')
    .option('--token-env <var>', 'environment variable holding the Hub token (default HF_TOKEN)')
    .option('--sha256 <hex>', 'expected SHA-256 of an https:// source')
    .option('--retries <n>', 'retries per request after the first attempt (default 5)')
    .option('--no-progress', 'no progress line on stderr (it is shown only on a terminal anyway)');
}

export function fetchOptionsFrom(flags: SourceFlags): FetchOptions & { done: () => void } {
  const tokenVar = flags.tokenEnv ?? 'HF_TOKEN';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(tokenVar)) throw new ModelgateError('USAGE', '--token-env takes the NAME of an environment variable');
  const token = process.env[tokenVar] || undefined;
  let retries: number | undefined;
  if (flags.retries !== undefined) {
    retries = Number(flags.retries);
    if (!Number.isSafeInteger(retries) || retries < 0 || retries > 20) throw new ModelgateError('USAGE', '--retries takes a whole number from 0 to 20');
  }
  const tty = flags.progress && process.stderr.isTTY === true;
  let last = 0;
  const onProgress = tty
    ? (p: FetchProgress) => {
        const now = Date.now();
        if (now - last < 100) return;
        last = now;
        const pct = p.fileSize ? ` ${Math.floor((100 * p.fileBytes) / Math.max(1, p.fileSize))}%` : '';
        process.stderr.write(`\r\x1b[2K[${p.filesDone}/${p.filesTotal}] ${p.path} ${mib(p.fileBytes)}${pct}`);
      }
    : undefined;
  return {
    store: flags.store,
    allowFloating: flags.allowFloating === true,
    endpoint: flags.endpoint ?? (process.env.HF_ENDPOINT || undefined),
    token,
    sha256: flags.sha256,
    http: {
      retries,
      onRetry: tty ? (r) => process.stderr.write(`\r\x1b[2K${r.reason}; retry ${r.attempt} in ${r.delayMs} ms\n`) : undefined,
    },
    onProgress,
    done: () => {
      if (tty) process.stderr.write('\r\x1b[2K');
    },
  };
}

function mib(n: number): string {
  return n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(1)} MiB`;
}

export function registerFetch(program: Command): void {
  const cmd = program
    .command('fetch')
    .description('Download or copy one model version into the content-addressed quarantine store, verifying every file')
    .argument('<source>', 'hf://ORG/NAME@COMMIT, a folder, a file or archive, or an https:// URL');
  addSourceOptions(cmd)
    .option('--json', 'print the manifest and its digest as JSON on stdout')
    .option('--list', 'hf:// only: list the files at the resolved commit (sizes, git oid, LFS sha256) and download nothing')
    .addHelpText('after', HELP_AFTER)
    .action(async (source: string, flags: SourceFlags & { json?: boolean; list?: boolean }) => {
      const opts = fetchOptionsFrom(flags);
      if (flags.list) {
        if (sourceKind(source) !== 'hf') throw new ModelgateError('USAGE', '--list is for hf:// sources');
        const l = await listHubFiles(source, opts);
        if (flags.json) process.stdout.write(`${JSON.stringify(l, null, 2)}\n`);
        else {
          const lines = [`repo      ${l.repo}`, `commit    ${l.resolvedCommit}${l.floating ? ` (resolved from "${l.requestedRevision}")` : ''}`, ''];
          for (const f of l.files) lines.push(`  ${f.lfs ? `sha256:${f.lfs.sha256}` : `git-sha1:${f.gitOid}`.padEnd(71)}  ${String(f.size).padStart(12)}  ${f.path}`);
          process.stdout.write(`${lines.join('\n')}\n`);
        }
        return;
      }
      let result: FetchResult;
      try {
        result = await fetchSource(source, opts);
      } finally {
        opts.done();
      }
      process.stdout.write(flags.json ? `${JSON.stringify(toJson(result), null, 2)}\n` : renderFetch(result));
    });
}

function toJson(r: FetchResult): unknown {
  return { manifestDigest: r.manifestDigest, manifestPath: r.manifestPath, store: r.store, reused: r.reused, downloaded: r.downloaded, manifest: r.manifest };
}

function renderFetch(r: FetchResult): string {
  const m = r.manifest;
  const lines = [
    `source    ${m.source.uri}`,
    ...(m.resolvedCommit ? [`commit    ${m.resolvedCommit}${m.source.type === 'hf' && m.source.floating ? ` (resolved from "${m.source.requestedRevision}")` : ''}`] : []),
    `manifest  ${r.manifestDigest}`,
    `store     ${r.store}`,
    `files     ${m.totals.files} (${m.totals.bytes} bytes)${r.reused ? ', already in quarantine: nothing fetched' : `, ${r.downloaded.files} new in quarantine (${r.downloaded.bytes} bytes)`}`,
    '',
  ];
  const w = Math.max(4, ...m.files.map((f) => String(f.size).length));
  for (const f of m.files) lines.push(`  ${f.sha256}  ${String(f.size).padStart(w)}  ${f.path}${f.lfs ? '  (lfs)' : ''}`);
  return `${lines.join('\n')}\n`;
}
