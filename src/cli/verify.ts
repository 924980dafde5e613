import type { Command } from 'commander';
import { verifyModel, type VerifyResult } from '../provenance/signing/index.ts';
import { ModelgateError } from '../scan/model.ts';

interface VerifyFlags {
  signature: string;
  key?: string;
  certChain?: string;
  trustedRoot?: string;
  identity?: string;
  identityProvider?: string;
  ignorePaths?: string[];
  ignoreGitPaths: boolean;
  legacyCompat: boolean;
  ignoreUnsignedFiles: boolean;
  json: boolean;
  progress: boolean;
}

const HELP_AFTER = `
Checks an OpenSSF Model Signing (OMS, model_signing) signature: the Sigstore bundle, the DSSE
signature, the in-toto statement, and then re-hashes the model with the serialization recorded in
the signature (method, shard size, ignored paths) and compares every file. Works offline.

Exactly one trust option:
  --key PUB.pem                         bundles signed with a key (P-256/P-384/P-521)
  --cert-chain CA.pem                   bundles with an x509 certificate chain; CA.pem holds the trust anchor(s)
  --trusted-root ROOT.json --identity ID --identity-provider URL
                                        keyless Sigstore bundles (Fulcio certificate + Rekor entry),
                                        checked against a pinned trusted_root.json

Exit codes:
  0  valid: the signature verifies and the model matches it
  1  invalid: bad signature, untrusted key or chain, wrong identity, edited envelope or statement,
     or the model differs (changed, extra or missing files)
  2  usage error, or an unreadable model, signature or key

Examples:
  modelgate verify ./my-model --signature my-model/model.sig --key signer-pub.pem
  modelgate verify ./my-model --signature model.sig --cert-chain ca-cert.pem --json
  modelgate verify ./my-model --signature model.sig --trusted-root trusted_root.json \\
      --identity someone@example.com --identity-provider https://accounts.google.com
  modelgate verify ./my-model --signature model.sig --key pub.pem --ignore-paths ignore-me`;

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('Verify an OpenSSF Model Signing signature over a model folder or file (exit 0 only when valid)')
    .argument('<path>', 'model folder or single model file')
    .requiredOption('--signature <file>', 'the signature bundle (model.sig)')
    .option('--key <pem>', 'public key PEM of the signer')
    .option('--cert-chain <pem>', 'trust anchor certificate(s) PEM')
    .option('--trusted-root <json>', 'Sigstore trusted_root.json (keyless)')
    .option('--identity <id>', 'keyless: expected signer identity (certificate SAN, e.g. an email)')
    .option('--identity-provider <url>', 'keyless: expected OIDC issuer')
    .option('--ignore-paths <paths...>', 'paths to leave out besides those recorded in the signature')
    .option('--no-ignore-git-paths', 'also hash .git, .gitattributes, .github and .gitignore')
    .option('--ignore-unsigned-files', 'hash only the files the signature names (extra files do not fail)', false)
    .option('--no-legacy-compat', 'refuse the non-standard DSSE encoding that model_signing v0.2 signed')
    .option('--json', 'machine-readable result on stdout', false)
    .option('--no-progress', 'no progress line on stderr (it is shown only on a terminal anyway)')
    .addHelpText('after', HELP_AFTER)
    .action(async (path: string, flags: VerifyFlags) => {
      if ((flags.identity || flags.identityProvider) && !flags.trustedRoot) throw new ModelgateError('USAGE', '--identity and --identity-provider go with --trusted-root');
      const showProgress = flags.progress && process.stderr.isTTY === true;
      const result = await verifyModel(path, {
        signaturePath: flags.signature,
        key: flags.key,
        certChain: flags.certChain,
        trustedRoot: flags.trustedRoot,
        identity: flags.identity,
        identityProvider: flags.identityProvider,
        ignorePaths: flags.ignorePaths,
        ignoreGitPaths: flags.ignoreGitPaths,
        legacyCompat: flags.legacyCompat,
        ignoreUnsignedFiles: flags.ignoreUnsignedFiles,
        onProgress: showProgress ? (p) => process.stderr.write(`\r\x1b[2Khashing ${p.bytesTotal ? Math.floor((p.bytesDone / p.bytesTotal) * 100) : 100}%`) : undefined,
      });
      if (showProgress) process.stderr.write('\r\x1b[2K');
      process.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : renderVerify(path, result));
      process.exitCode = result.valid ? 0 : 1;
    });
}

export function renderVerify(path: string, r: VerifyResult): string {
  const lines: string[] = [];
  if (r.valid) {
    lines.push(`VALID ${path}: ${r.method} signature by ${r.signer}; ${r.resources} resources match, root digest ${r.rootDigest ?? '(legacy format: no root digest)'}`);
  } else {
    lines.push(`INVALID ${path}: ${r.reason} [${r.code}]`);
  }
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  return `${lines.join('\n')}\n`;
}
