// `modelgate`: parse → call the library → render. One file per command.
import { Command, CommanderError } from 'commander';
import { ModelgateError } from '../scan/model.ts';
import { VERSION } from '../version.ts';
import { registerScan } from './scan.ts';
import { registerRules } from './rules.ts';
import { registerHash } from './hash.ts';
import { registerSign } from './sign.ts';
import { registerVerify } from './verify.ts';
import { registerFetch } from './fetch.ts';
import { registerMirror } from './mirror.ts';
import { registerLicense } from './license.ts';
import { registerCard } from './card.ts';
import { registerSbom } from './sbom.ts';
import { registerEval } from './eval.ts';
import { registerPolicy } from './policy.ts';
import { registerAudit } from './audit.ts';

const program = new Command('modelgate')
  .description('Inspect, prove and govern ML model artifacts without ever loading them.')
  .version(VERSION, '-V, --version')
  .showHelpAfterError('(run with --help for usage)')
  .configureOutput({ outputError: (s, write) => write(s) })
  .exitOverride();

registerScan(program);
registerRules(program);
registerHash(program);
registerSign(program);
registerVerify(program);
registerFetch(program);
registerMirror(program);
registerLicense(program);
registerCard(program);
registerSbom(program);
registerEval(program);
registerPolicy(program);
registerAudit(program);

// `modelgate … | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

async function main(): Promise<void> {
  await program.parseAsync(process.argv);
}

main().catch((e: unknown) => {
  if (e instanceof CommanderError) {
    // --help and --version exit 0; usage errors exit 2 (1 is reserved for "findings").
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else if (e instanceof ModelgateError) {
    process.stderr.write(`modelgate: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`modelgate: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 2;
  }
});
