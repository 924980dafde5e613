import type { Command } from 'commander';
import { ModelgateError } from '../scan/model.ts';
import { mirrorVersion, verifyMirror, S3Backend, parseS3Uri, type MirrorBackend } from '../provenance/mirror/index.ts';
import { addSourceOptions, fetchOptionsFrom, type SourceFlags } from './fetch.ts';

const HELP_AFTER = `
INPUT is a version already in quarantine (its manifest digest sha256:… or a manifest .json file), or
any source \`modelgate fetch\` accepts (it is fetched into quarantine first).

--to is a folder, or an S3-compatible bucket: s3://BUCKET[/PREFIX] with --s3-endpoint (or
AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL; default https://s3.REGION.amazonaws.com), path-style
requests signed with AWS Signature V4 from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
AWS_SESSION_TOKEN; region from --s3-region, AWS_REGION or AWS_DEFAULT_REGION (default us-east-1).
Uploads sign x-amz-content-sha256 with the blob's SHA-256, so the bucket refuses other bytes.

The mirror has the quarantine layout: blobs/sha256/ab/cdef… and manifests/sha256/…; a
version is named by its manifest digest. Every blob is re-hashed while it is copied, and
--verify re-hashes what the mirror holds (library: openMirrored() streams one file and checks it).

Exit codes:
  0  copied (or verified) and every digest matched
  1  --verify found a missing or changed file (each one is named)
  2  usage error, or a copy could not be made or verified

Examples:
  modelgate mirror sha256:3b1f… --to /srv/models-mirror
  modelgate mirror hf://acme/tiny-model@0123456789abcdef0123456789abcdef01234567 --to ./mirror --json
  modelgate mirror --verify --to /srv/models-mirror              every version
  modelgate mirror --verify sha256:3b1f… --to /srv/models-mirror  one version`;

export function registerMirror(program: Command): void {
  const cmd = program
    .command('mirror')
    .description('Copy a verified model version into a mirror store keyed by digest; --verify re-checks the mirror')
    .argument('[input]', 'manifest digest (sha256:…), manifest file, or a source (hf://…, folder, file, https://…)')
    .requiredOption('--to <dir>', 'the mirror folder')
    .option('--verify', 're-hash the mirror (INPUT: one manifest digest; none: every version)')
    .option('--json', 'machine-readable result on stdout')
    .option('--s3-endpoint <url>', 'S3-compatible endpoint for an s3:// mirror')
    .option('--s3-region <region>', 'region for an s3:// mirror');
  addSourceOptions(cmd)
    .addHelpText('after', HELP_AFTER)
    .action(async (input: string | undefined, flags: SourceFlags & { to: string; verify?: boolean; json?: boolean; s3Endpoint?: string; s3Region?: string }) => {
      const target = mirrorTarget(flags.to, flags);
      if (flags.verify) {
        const r = await verifyMirror(target, input);
        if (flags.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        else {
          const lines = [`mirror    ${r.mirror}`, `checked   ${r.manifests} versions, ${r.files} files (${r.bytes} bytes)`];
          for (const p of r.problems) lines.push(`FAIL      ${p.manifest} ${p.message}`);
          lines.push(r.ok ? 'ok        every digest matched' : r.manifests === 0 ? 'FAIL      no versions in the mirror' : `FAIL      ${r.problems.length} problems`);
          process.stdout.write(`${lines.join('\n')}\n`);
        }
        process.exitCode = r.ok ? 0 : 1;
        return;
      }
      if (!input) throw new ModelgateError('USAGE', 'mirror needs an INPUT (manifest digest, manifest file or source), or --verify');
      const opts = fetchOptionsFrom(flags);
      let r;
      try {
        r = await mirrorVersion(input, { ...opts, to: target });
      } finally {
        opts.done();
      }
      if (flags.json) process.stdout.write(`${JSON.stringify({ manifestDigest: r.manifestDigest, mirror: r.mirror, copied: r.copied, present: r.present, files: r.manifest.files.length }, null, 2)}\n`);
      else process.stdout.write(`mirrored  ${r.manifestDigest}\nmirror    ${r.mirror}\nfiles     ${r.manifest.files.length}: ${r.copied.files} copied (${r.copied.bytes} bytes), ${r.present} already present\n`);
    });
}

function mirrorTarget(to: string, flags: { s3Endpoint?: string; s3Region?: string }): string | MirrorBackend {
  if (!to.startsWith('s3://')) return to;
  const { bucket, prefix } = parseS3Uri(to);
  const region = flags.s3Region ?? (process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1');
  const endpoint = flags.s3Endpoint ?? (process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || `https://s3.${region}.amazonaws.com`);
  const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) throw new ModelgateError('USAGE', `${to}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for an S3 mirror`);
  return new S3Backend({ endpoint, region, bucket, prefix, credentials: { accessKeyId, secretAccessKey, sessionToken: process.env.AWS_SESSION_TOKEN || undefined } });
}
