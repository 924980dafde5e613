// `modelgate policy check|explain|default`: validate a release policy and show what it requires.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ModelgateError } from '../scan/model.ts';
import {
  BUILTIN_SOURCE,
  DEFAULT_POLICY_YAML,
  POLICY_FILE,
  TIERS,
  checkPolicy,
  describeCell,
  describeCellNotes,
  describeCellShort,
  formatIssue,
  loadPolicy,
  requirementsFor,
  type Policy,
} from '../policy/index.ts';

const CHECK_HELP = `
Which policy: FILE when given, else ./${POLICY_FILE} when it exists, else the built-in default.

Exit codes:
  0  the policy is valid (the tier × environment matrix is printed)
  2  the policy is invalid (every problem is printed as FILE:LINE:COLUMN: path: expected …, found …)
     or the file cannot be read

Examples:
  modelgate policy check                          validate ./${POLICY_FILE} (or the default)
  modelgate policy check ops/policy.yaml --json   {valid, source, environments, matrix} or {valid:false, issues}
  modelgate policy default > ${POLICY_FILE}        start from the documented default`;

const EXPLAIN_HELP = `
Prints each requirement a model of that risk tier must meet to enter that environment, under the id
\`modelgate gate\` reports it with (scan.severity, scan.formats, scan.remote-code, license, signature,
eval:<suite>, vulnerabilities, approvals), then the evidence age limit and the waiver rules.

Examples:
  modelgate policy explain --tier high --env production
  modelgate policy explain --tier low --env dev --policy ops/policy.yaml --json`;

export function registerPolicy(program: Command): void {
  const policy = program
    .command('policy')
    .description('Validate the release policy (risk tier × environment → requirements) and explain it');

  policy
    .command('check')
    .description('Validate a policy file and print the tier × environment matrix')
    .argument('[file]', `policy file (default ./${POLICY_FILE}, else the built-in default)`)
    .option('--json', 'machine-readable result on stdout')
    .addHelpText('after', CHECK_HELP)
    .action((file: string | undefined, flags: { json?: boolean }) => {
      const { text, source } = readSource(file);
      const { policy: p, issues } = checkPolicy(text, source);
      if (!p) {
        if (flags.json) process.stdout.write(`${JSON.stringify({ valid: false, source, issues }, null, 2)}\n`);
        else process.stderr.write(`${issues.map(formatIssue).join('\n')}\nmodelgate: ${source}: invalid policy (${issues.length} problem${issues.length === 1 ? '' : 's'})\n`);
        process.exitCode = 2;
        return;
      }
      if (flags.json) process.stdout.write(`${JSON.stringify({ valid: true, source, environments: p.environments, roles: p.roles, matrix: p.cells }, null, 2)}\n`);
      else process.stdout.write(renderMatrix(p));
      process.exitCode = 0;
    });

  policy
    .command('explain')
    .description('Print the requirements of one risk tier in one environment')
    .requiredOption('--tier <tier>', `risk tier: ${TIERS.join(', ')}`)
    .requiredOption('--env <env>', 'environment, as declared in the policy (e.g. dev, staging, production)')
    .option('--policy <file>', `policy file (default ./${POLICY_FILE}, else the built-in default)`)
    .option('--json', 'machine-readable result on stdout')
    .addHelpText('after', EXPLAIN_HELP)
    .action((flags: { tier: string; env: string; policy?: string; json?: boolean }) => {
      const p = loadPolicy(flags.policy);
      const cell = requirementsFor(p, flags.tier, flags.env);
      const reqs = describeCell(cell);
      const notes = describeCellNotes(cell);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ source: p.source, tier: flags.tier, env: flags.env, requirements: reqs, notes, cell }, null, 2)}\n`);
        return;
      }
      const width = Math.max(0, ...reqs.map((r) => r.id.length));
      const lines = [`${flags.tier} → ${flags.env} (${p.source}): ${reqs.length} requirement${reqs.length === 1 ? '' : 's'}`];
      for (const r of reqs) lines.push(`  ${r.id.padEnd(width)}  ${r.text}`);
      if (reqs.length === 0) lines.push('  (none: every model of this tier may enter this environment)');
      for (const n of notes) lines.push(`  · ${n}`);
      lines.push('Missing evidence fails the gate (fail closed).');
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  policy
    .command('default')
    .description(`Print the built-in default policy (documented YAML) to stdout`)
    .action(() => {
      process.stdout.write(DEFAULT_POLICY_YAML);
    });
}

function readSource(file: string | undefined): { text: string; source: string } {
  const path = file ?? (existsSync(POLICY_FILE) ? POLICY_FILE : null);
  if (path === null) return { text: DEFAULT_POLICY_YAML, source: BUILTIN_SOURCE };
  try {
    return { text: readFileSync(path, 'utf8'), source: file ?? resolve(path) };
  } catch (e) {
    throw new ModelgateError('POLICY_UNREADABLE', `${path}: cannot read the policy file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

function renderMatrix(p: Policy): string {
  const lines = [`${p.source}: valid policy, ${TIERS.length} tiers × ${p.environments.length} environments (${p.environments.join(', ')})`];
  const width = Math.max(...p.environments.map((e) => e.length));
  for (const t of TIERS) {
    lines.push(`${t}:`);
    for (const e of p.environments) lines.push(`  ${e.padEnd(width)}  ${describeCellShort(p.cells[t][e])}`);
  }
  lines.push('Details: modelgate policy explain --tier TIER --env ENV');
  return `${lines.join('\n')}\n`;
}
