import { Option, type Command } from 'commander';
import { signModel } from '../provenance/signing/index.ts';
import { ModelgateError } from '../scan/model.ts';
import { parseSize } from './scan.ts';

interface SignFlags {
  key: string;
  certChain?: string[];
  output: string;
  ignorePaths?: string[];
  ignoreGitPaths: boolean;
  allowSymlinks: boolean;
  serialization: 'files' | 'shards';
  shardSize?: string;
  json: boolean;
  progress: boolean;
}

const HELP_AFTER = `
Writes an OpenSSF Model Signing (OMS) signature, as model_signing does: a Sigstore bundle v0.3
holding a DSSE envelope over an in-toto statement whose subject is the model's root digest and whose
predicate lists every file's SHA-256 and how the model was serialized (including ignored paths, so
the verifier re-applies them). The key hash follows the curve: P-256/SHA-256, P-384/SHA-384,
P-521/SHA-512. The signature file itself and git metadata are never hashed.

Exit codes:
  0  signed
  2  usage error, unreadable model or key, unsupported key type, or the certificate is for another key

Examples:
  modelgate sign ./my-model --key signer.pem --output my-model/model.sig
  modelgate sign ./my-model --key signer.pem --cert-chain signer-cert.pem int-ca.pem
  modelgate sign ./my-model --key signer.pem --ignore-paths logs --serialization shards
  modelgate verify ./my-model --signature my-model/model.sig --key signer-pub.pem   # check it`;

export function registerSign(program: Command): void {
  program
    .command('sign')
    .description('Sign a model folder or file in the OpenSSF Model Signing format with an EC private key')
    .argument('<path>', 'model folder or single model file')
    .requiredOption('--key <pem>', 'EC private key PEM (P-256, P-384 or P-521)')
    .option('--cert-chain <pems...>', 'signing certificate first, then intermediates (bundle carries an x509 chain)')
    .option('--output <file>', 'where to write the signature bundle', 'model.sig')
    .option('--ignore-paths <paths...>', 'paths to leave out (recorded in the signature)')
    .option('--no-ignore-git-paths', 'also hash .git, .gitattributes, .github and .gitignore')
    .option('--allow-symlinks', 'hash the targets of symbolic links under the links\' names', false)
    .addOption(new Option('--serialization <method>', 'files: one digest per file; shards: fixed-size shards').choices(['files', 'shards']).default('files'))
    .option('--shard-size <bytes>', 'shard size for --serialization shards (default 1000000000)')
    .option('--json', 'machine-readable summary on stdout', false)
    .option('--no-progress', 'no progress line on stderr (it is shown only on a terminal anyway)')
    .addHelpText('after', HELP_AFTER)
    .action(async (path: string, flags: SignFlags) => {
      const showProgress = flags.progress && process.stderr.isTTY === true;
      if (flags.shardSize !== undefined && flags.serialization !== 'shards') throw new ModelgateError('USAGE', '--shard-size goes with --serialization shards');
      const r = await signModel(path, {
        key: flags.key,
        certChain: flags.certChain,
        output: flags.output,
        ignorePaths: flags.ignorePaths,
        ignoreGitPaths: flags.ignoreGitPaths,
        allowSymlinks: flags.allowSymlinks,
        serialization: flags.serialization,
        shardSize: flags.shardSize !== undefined ? parseSize(flags.shardSize) : undefined,
        onProgress: showProgress ? (p) => process.stderr.write(`\r\x1b[2Khashing ${p.bytesTotal ? Math.floor((p.bytesDone / p.bytesTotal) * 100) : 100}%`) : undefined,
      });
      if (showProgress) process.stderr.write('\r\x1b[2K');
      if (flags.json) {
        const { digest, ...rest } = r;
        process.stdout.write(`${JSON.stringify({ ...rest, rootDigest: digest.rootDigest, resources: digest.resources.length, serialization: digest.serialization }, null, 2)}\n`);
      } else {
        process.stdout.write(`signed ${path} → ${r.signature} (${r.method}, ${r.curve}, key ${r.keyHint.slice(0, 16)}…): root digest ${r.digest.rootDigest}, ${r.digest.resources.length} resources\n`);
      }
    });
}
