import { Option, type Command } from 'commander';
import { ModelgateError } from '../scan/model.ts';
import { reviewLicense, parseIntendedUse, renderLicenseReview, exitCodeForLicense } from '../license/index.ts';

interface LicenseFlags {
  use: string;
  users?: string;
  json: boolean;
}

const HELP_AFTER = `
Intended uses:
  commercial  in a product or service offered to customers or the public (hosting or distributing)
  internal    inside the organisation for its own business; nothing offered to third parties
  research    non-commercial research or evaluation

Exit codes:
  0  approved (obligations may still apply: read them)
  1  forbidden for this use
  2  usage error, or the input could not be read
  3  review needed: unknown, conflicting or edited terms, or a condition modelgate cannot check
     (e.g. a user threshold without --users). Never treat 3 as success.

Examples:
  modelgate license ./Llama-3.1-8B --use commercial --users 2000000
  modelgate license ./Qwen-1_8B --use research
  modelgate license ./model/README.md --use internal --json

Detection reads README.md front matter (license, license_name, license_link, extra_gated_*), and
LICENSE*, *LICENSE*, NOTICE, USE_POLICY files. Texts are matched against the knowledge base
(whitespace, case and punctuation do not matter; edited texts match as "near" and need review) and
their SHA-256 (raw and normalised) is recorded so a change of terms can trigger re-review.
This is an aid for review, not legal advice.`;

export function registerLicense(program: Command): void {
  program
    .command('license')
    .description('Review the license terms of a model for an intended use (approved / review / forbidden)')
    .argument('<path>', 'model folder, model card (README.md) or license file')
    .addOption(new Option('--use <use>', 'intended use: commercial | internal | research').makeOptionMandatory())
    .option('--users <n>', 'monthly active users of your organisation’s products and services (for user thresholds)')
    .option('--json', 'machine-readable review on stdout', false)
    .addHelpText('after', HELP_AFTER)
    .action((path: string, flags: LicenseFlags) => {
      const use = parseIntendedUse(flags.use);
      let users: number | undefined;
      if (flags.users !== undefined) {
        const n = Number(flags.users.replace(/[_,]/g, ''));
        if (!Number.isSafeInteger(n) || n < 0) throw new ModelgateError('USAGE', `--users takes a whole number ≥ 0, not "${flags.users}"`);
        users = n;
      }
      const review = reviewLicense(path, { use, users });
      const color = !flags.json && process.stdout.isTTY === true && !process.env.NO_COLOR;
      process.stdout.write(renderLicenseReview(review, flags.json ? 'json' : 'text', color));
      process.exitCode = exitCodeForLicense(review.decision);
    });
}
