// `modelgate intake PATH`: record a model version in the registry with its scan, license, card and
// SBOM evidence (idempotent by root digest).
import type { Command } from 'commander';
import { openStore } from '../registry/store/index.ts';
import { intake, intakeSource, defaultActor, type IntakeResult } from '../registry/domain/index.ts';
import { addSourceOptions, fetchOptionsFrom, type SourceFlags } from './fetch.ts';

const DB_HELP = 'registry database: a path, sqlite:PATH or postgres://… (default: $MODELGATE_DB, else .modelgate/registry.db)';

const HELP = `
Hashes the model (OMS root digest), scans it, reviews its license for the intended use, extracts
the card and builds the SBOM, then records - in one transaction - the model, a new immutable
version, its file list, the intake record, one evidence statement per result and audit entries.
The same bytes intaken twice are the same version: the second intake changes nothing and
reports the existing version ("created": false).

The license review uses --license-use, else the first of commercial / internal / research that
--use mentions, else commercial (the strictest).

Exit codes:
  0  recorded (or already recorded)
  2  usage error, unreadable path, a source that fails verification, or the database cannot be opened

JSON (--json): {"model": "…", "version": "1", "rootDigest": "<hex>", "created": true|false,
                "files": N, "evidence": [{"kind": "scan|license|card|sbom", "id": "<hex>"}]}

Examples:
  modelgate intake ./models/bert --name support-bert --owner team-nlp \\
      --use "internal support chatbot" --sensitivity internal --tier high --target-env production
  modelgate intake ./m --name m --owner me --use research --sensitivity public --tier low --json`;

export function renderIntake(r: IntakeResult): string {
  return r.created
    ? `recorded ${r.model}@${r.version} (root sha256:${r.rootDigest}, ${r.files} file${r.files === 1 ? '' : 's'}; evidence: ${r.evidence.map((e) => e.kind).join(', ')})\n`
    : `already recorded: ${r.model}@${r.version} has root sha256:${r.rootDigest} (nothing changed)\n`;
}

export function registerIntake(program: Command): void {
  const cmd = program
    .command('intake')
    .description('Record a model version in the registry with its scan, license, card and SBOM evidence')
    .argument('<path>', 'model folder or file, or a source: hf://ORG/NAME@COMMIT, https://… --sha256 …')
    .requiredOption('--name <name>', 'model name in the registry')
    .requiredOption('--owner <id>', 'owning person or team')
    .requiredOption('--use <text>', 'intended use, e.g. "internal support chatbot"')
    .requiredOption('--sensitivity <level>', 'data sensitivity: public|internal|confidential|restricted')
    .requiredOption('--tier <tier>', 'risk tier: low|medium|high|critical')
    .option('--publisher <name>', 'who published the model')
    .option('--target-env <env>', 'the environment it is meant for')
    .option('--version <label>', 'version label (default: the next whole number)')
    .option('--license-use <use>', 'license review use: commercial|internal|research')
    .option('--by <id>', 'submitter (default: the OS user); the submitter cannot approve')
    .option('--db <url>', DB_HELP)
    .option('--json', 'machine-readable result on stdout')
    .addHelpText('after', HELP);
  addSourceOptions(cmd).action(async (path: string, o: SourceFlags & { name: string; owner: string; use: string; sensitivity: string; tier: string; publisher?: string; targetEnv?: string; version?: string; licenseUse?: string; by?: string; db?: string; json?: boolean }) => {
    const store = await openStore(o.db);
    try {
      const opts = {
        name: o.name, owner: o.owner, use: o.use, sensitivity: o.sensitivity, tier: o.tier,
        publisher: o.publisher, targetEnv: o.targetEnv, version: o.version, licenseUse: o.licenseUse, submitter: o.by ?? defaultActor(),
      };
      // Remote sources go through the quarantine: pinned, verified while streaming, then intaken.
      if (/^(hf|https):\/\//i.test(path)) {
        const fetchOpts = fetchOptionsFrom(o);
        try {
          const r = await intakeSource(store, path, fetchOpts, opts);
          process.stdout.write(o.json ? JSON.stringify(r, null, 2) + '\n' : renderIntake(r) + `  source ${r.source.spec}${r.source.resolvedCommit ? ` (commit ${r.source.resolvedCommit})` : ''}, quarantine manifest ${r.source.manifestDigest}\n`);
        } finally {
          fetchOpts.done();
        }
        return;
      }
      const r = await intake(store, path, opts);
      process.stdout.write(o.json ? JSON.stringify(r, null, 2) + '\n' : renderIntake(r));
    } finally {
      await store.close();
    }
  });
}
