// `modelgate`: parse → call the library → render. One file per command.
import { Command, CommanderError } from 'commander';
import { ModelgateError } from '../scan/model.ts';
import { VERSION } from '../version.ts';

const program = new Command('modelgate')
  .description('Inspect, prove and govern ML model artifacts without ever loading them.')
  .version(VERSION, '-V, --version')
  .showHelpAfterError('(run with --help for usage)')
  .configureOutput({ outputError: (s, write) => write(s) })
  .exitOverride();


// `modelgate … | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

// Each command's module (and what it pulls in: SQLite, the license texts, CycloneDX…) loads only when
// that command runs; help and unknown commands load them all so commander can list and suggest.
type Register = (p: Command) => void;
const COMMANDS: Record<string, () => Promise<Register>> = {
  scan: async () => (await import('./scan.ts')).registerScan,
  rules: async () => (await import('./rules.ts')).registerRules,
  explain: async () => (await import('./rules.ts')).registerRules,
  hash: async () => (await import('./hash.ts')).registerHash,
  sign: async () => (await import('./sign.ts')).registerSign,
  verify: async () => (await import('./verify.ts')).registerVerify,
  fetch: async () => (await import('./fetch.ts')).registerFetch,
  mirror: async () => (await import('./mirror.ts')).registerMirror,
  license: async () => (await import('./license.ts')).registerLicense,
  card: async () => (await import('./card.ts')).registerCard,
  sbom: async () => (await import('./sbom.ts')).registerSbom,
  eval: async () => (await import('./eval.ts')).registerEval,
  policy: async () => (await import('./policy.ts')).registerPolicy,
  audit: async () => (await import('./audit.ts')).registerAudit,
  intake: async () => (await import('./intake.ts')).registerIntake,
  component: async () => (await import('./inventory.ts')).registerInventory,
  system: async () => (await import('./inventory.ts')).registerInventory,
  ...Object.fromEntries(['approve', 'gate', 'waive', 'deploy', 'rollback', 'revoke', 'where', 'history', 'evidence', 'identity'].map((c) => [c, async () => (await import('./registry.ts')).registerRegistry])),
};

async function main(): Promise<void> {
  const name = process.argv.slice(2).find((a) => !a.startsWith('-'));
  const args = process.argv.slice(2);
  const versionOnly = name === undefined && (args.includes('--version') || args.includes('-V'));
  const wanted = versionOnly ? [] : name !== undefined && name in COMMANDS ? [name] : Object.keys(COMMANDS);
  const registered = new Set<Register>();
  for (const loader of wanted.map((n) => COMMANDS[n])) {
    const register = await loader();
    if (!registered.has(register)) register(program);
    registered.add(register);
  }
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
