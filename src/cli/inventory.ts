// `modelgate component add|list|show` and `modelgate system pin|show|list`: the inventory of
// behaviour-changing artifacts. Thin wrappers over src/registry/domain/inventory.ts.
import type { Command } from 'commander';
import { openStore, type Store } from '../registry/store/index.ts';
import { loadPolicy } from '../policy/index.ts';
import * as reg from '../registry/domain/index.ts';

const DB_HELP = 'registry database: a path, sqlite:PATH or postgres://… (default: $MODELGATE_DB, else .modelgate/registry.db)';
const EXIT = `
Exit codes:
  0  done
  2  usage error, unknown component/system/model version, or the database cannot be opened`;

async function withStore<T>(db: string | undefined, fn: (s: Store) => Promise<T>): Promise<T> {
  const store = await openStore(db);
  try { return await fn(store); } finally { await store.close(); }
}
function out(json: boolean | undefined, value: unknown, text: string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : text);
}
const collect = (v: string, prev: string[] = []) => [...prev, v];
const short = (d: string) => d.slice(0, 12);

export function registerInventory(program: Command): void {
  if (program.commands.some((c) => c.name() === 'component')) return; // main.ts may call us for both words
  const component = program.command('component').description('Record and list behaviour-changing components (prompts, tool schemas, indexes, routes, flags, …)');
  component
    .command('add')
    .description('Record the content digest and owner of a component; changed content is a new version')
    .argument('<path>', 'file (SHA-256) or folder (OMS root digest)')
    .requiredOption('--kind <kind>', reg.COMPONENT_KINDS.join('|'))
    .requiredOption('--name <name>', 'component name')
    .requiredOption('--owner <id>', 'owning team or person')
    .option('--by <id>', 'who records it (default: the owner)')
    .option('--policy <file>', 'policy for the gates re-run on affected systems (default: ./modelgate.policy.yaml, else built-in)')
    .option('--db <url>', DB_HELP)
    .option('--json', 'machine-readable result on stdout')
    .addHelpText('after', `
The same content again is the same version (nothing changes). New content is version n+1; every AI
system whose current release pins an older version is marked needs-reassessment, and the gate of
its pinned model is re-run for its environments (recorded as gate evidence and in the audit log).
${EXIT}

JSON (--json): {"kind", "name", "version", "digest", "owner", "path", "createdAt", "createdBy", "created",
                "reassessed": [{"system", "release", "previous", "reason"}],
                "gates": [{"system", "model", "version", "env", "allowed", "evidenceId", "failed"}]}

Examples:
  modelgate component add --kind prompt --name support-system --owner team-nlp prompts/system.txt
  modelgate component add --kind retrieval-index --name kb --owner team-search ./index/ --json`)
    .action(async (path: string, o: { kind: string; name: string; owner: string; by?: string; policy?: string; db?: string; json?: boolean }) => {
      const policy = loadPolicy(o.policy);
      const r = await withStore(o.db, (s) => reg.addComponent(s, path, { kind: o.kind, name: o.name, owner: o.owner, by: o.by, policy }));
      const lines = [`${r.created ? 'recorded' : 'unchanged'} ${r.kind} ${r.name}@${r.version} (${short(r.digest)}) owner ${r.owner}`];
      for (const s of r.reassessed) lines.push(`  system ${s.system} needs reassessment: ${s.reason}`);
      for (const g of r.gates) lines.push(`  gate ${g.model}@${g.version} → ${g.env} for ${g.system}: ${g.allowed ? 'PASS' : 'BLOCKED'}${g.failed.length ? ` (${g.failed.join(', ')})` : ''}`);
      out(o.json, r, lines.join('\n') + '\n');
    });
  component
    .command('list')
    .description('List components with their latest version')
    .option('--kind <kind>', 'only this kind')
    .option('--db <url>', DB_HELP)
    .option('--json', 'machine-readable result on stdout')
    .addHelpText('after', `${EXIT}

JSON (--json): [{"kind", "name", "version", "versions", "digest", "owner", "path", "createdAt", "createdBy"}]

Example:
  modelgate component list --kind prompt`)
    .action(async (o: { kind?: string; db?: string; json?: boolean }) => {
      const r = await withStore(o.db, (s) => reg.listComponents(s, { kind: o.kind }));
      out(o.json, r, r.map((c) => `${c.kind.padEnd(16)} ${c.name}@${c.version}  ${short(c.digest)}  owner ${c.owner}\n`).join('') || 'no components\n');
    });
  component
    .command('show')
    .description('Every version of a component')
    .argument('<name>', 'NAME, or KIND/NAME when the name is used by several kinds')
    .option('--db <url>', DB_HELP)
    .option('--json', 'machine-readable result on stdout')
    .addHelpText('after', `${EXIT}

JSON (--json): {"kind", "name", "versions": [{"version", "digest", "owner", "path", "createdAt", "createdBy", …}]}

Example:
  modelgate component show support-system`)
    .action(async (name: string, o: { db?: string; json?: boolean }) => {
      const r = await withStore(o.db, (s) => reg.showComponent(s, name));
      out(o.json, r, [`${r.kind} ${r.name}`, ...r.versions.map((v) => `  @${v.version}  ${v.digest}  ${v.createdAt}  by ${v.createdBy}`)].join('\n') + '\n');
    });

  const system = program.command('system').description('Pin and inspect releases of AI systems (model + components)');
  const slots: Array<[string, reg.ComponentKind, string]> = [
    ['--prompt <ref>', 'prompt', 'prompt NAME@VER (repeatable)'],
    ['--tool-schema <ref>', 'tool-schema', 'tool schema NAME@VER (repeatable)'],
    ['--index <ref>', 'retrieval-index', 'retrieval index NAME@VER (repeatable)'],
    ['--route <ref>', 'provider-route', 'provider route NAME@VER (repeatable)'],
    ['--flag <ref>', 'feature-flag', 'feature flag NAME@VER (repeatable)'],
    ['--eval-suite <ref>', 'eval-suite', 'eval suite NAME@VER (repeatable)'],
    ['--dataset <ref>', 'dataset', 'dataset NAME@VER (repeatable)'],
  ];
  const pin = system
    .command('pin')
    .description('Pin a release of an AI system: a model version plus component versions')
    .argument('<name>', 'system name')
    .requiredOption('--model <ref>', 'MODEL@VERSION from the registry')
    .requiredOption('--by <id>', 'who pins the release')
    .option('--owner <id>', 'owner when the system is new (default: --by)');
  for (const [flag, , help] of slots) pin.option(flag, help, collect);
  pin
    .option('--db <url>', DB_HELP)
    .option('--json', 'machine-readable result on stdout')
    .addHelpText('after', `
Component versions are numbers (1, 2, …) or digest prefixes (7+ hex characters). Each pin is a new
release (1, 2, …); pinning the current release again changes nothing. Pinning clears a
needs-reassessment status.
${EXIT}

JSON (--json): {"name", "owner", "release", "status", "reason", "created", "pins": [{"slot", "kind", "name",
                "version", "digest", "pinnedAt", "pinnedBy"}], "gates": []}

Example:
  modelgate system pin support-bot --model support-bert@3 --prompt support-system@2 \\
    --tool-schema crm-tools@1 --index kb@4 --route openai-eu@1 --flag streaming@1 --by alice`)
    .action(async (name: string, o: Record<string, unknown>) => {
      const components: reg.PinSpec[] = [];
      for (const [flag, kind] of slots) {
        const key = flag.slice(2, flag.indexOf(' ')).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
        for (const ref of (o[key] as string[] | undefined) ?? []) components.push({ kind, ref });
      }
      const r = await withStore(o.db as string | undefined, (s) => reg.pinSystem(s, name, { model: o.model as string, components, by: o.by as string, owner: o.owner as string | undefined }));
      out(o.json as boolean | undefined, r, `${r.created ? 'pinned' : 'unchanged'} ${r.name} release ${r.release}: ${r.pins.map((p) => `${p.slot === 'model' ? 'model' : p.slot} ${p.name}@${p.version}`).join(', ')}\n`);
    });
  system
    .command('show')
    .description('The current release of a system, its status and why, and gates re-run since it was pinned')
    .argument('<name>', 'system name')
    .option('--db <url>', DB_HELP)
    .option('--json', 'machine-readable result on stdout')
    .addHelpText('after', `${EXIT}

JSON (--json): {"name", "owner", "createdAt", "release", "status": "ok"|"needs-reassessment", "reason",
                "pins": [{"slot", "kind", "name", "version", "digest", "pinnedAt", "pinnedBy"}],
                "gates": [{"at", "model", "env", "allowed", "evidence", "failed"}]}

Example:
  modelgate system show support-bot`)
    .action(async (name: string, o: { db?: string; json?: boolean }) => {
      const r = await withStore(o.db, (s) => reg.showSystem(s, name));
      const lines = [`system ${r.name} (owner ${r.owner}) release ${r.release ?? '-'}: ${r.status}`];
      if (r.reason) lines.push(`  why: ${r.reason}`);
      for (const p of r.pins) lines.push(`  ${p.slot.padEnd(28)} ${p.name}@${p.version}  ${short(p.digest)}`);
      for (const g of r.gates) lines.push(`  gate re-run ${g.at}: ${g.model} → ${g.env}: ${g.allowed ? 'PASS' : 'BLOCKED'}${g.failed.length ? ` (${g.failed.join(', ')})` : ''}`);
      out(o.json, r, lines.join('\n') + '\n');
    });
  system
    .command('list')
    .description('Every AI system with its current release and status')
    .option('--db <url>', DB_HELP)
    .option('--json', 'machine-readable result on stdout')
    .addHelpText('after', `${EXIT}

JSON (--json): [{"name", "owner", "release", "status", "model"}]`)
    .action(async (o: { db?: string; json?: boolean }) => {
      const r = await withStore(o.db, (s) => reg.listSystems(s));
      out(o.json, r, r.map((s) => `${s.name.padEnd(24)} release ${s.release ?? '-'}  ${s.model ?? '-'}  ${s.status}\n`).join('') || 'no systems\n');
    });
}
