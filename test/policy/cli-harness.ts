// Runs `modelgate policy …` through registerPolicy with main.ts's error handling, for tests that must not
// depend on the command being wired into src/cli/main.ts.
import { Command, CommanderError } from 'commander';
import { ModelgateError } from '../../src/scan/model.ts';
import { registerPolicy } from '../../src/cli/policy.ts';

const program = new Command('modelgate').exitOverride().configureOutput({ outputError: (s, write) => write(s) });
registerPolicy(program);
program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof CommanderError) process.exitCode = e.exitCode === 0 ? 0 : 2;
  else if (e instanceof ModelgateError) {
    process.stderr.write(`modelgate: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`modelgate: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 2;
  }
});
