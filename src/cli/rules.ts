import type { Command } from 'commander';
import { RULES, getRule } from '../scan/rules/index.ts';

export function registerRules(program: Command): void {
  program
    .command('rules')
    .description('List every rule of the catalogue (id, default severity, title)')
    .option('--json', 'print the catalogue as JSON')
    .action((opts: { json?: boolean }) => {
      if (opts.json) return void process.stdout.write(JSON.stringify(RULES, null, 2) + '\n');
      const w = Math.max(...RULES.map((r) => r.id.length));
      for (const r of RULES) process.stdout.write(`${r.id.padEnd(w)}  ${r.severity.padEnd(8)}  ${r.title}\n`);
      process.stdout.write(`\n${RULES.length} rules. \`modelgate explain RULE\` tells what one detects, why it matters and how to fix it.\n`);
    });

  program
    .command('explain <rule>')
    .description('Explain a rule: what it detects, why it is dangerous, how to fix or accept it, references')
    .option('--json', 'print the rule as JSON')
    .action((id: string, opts: { json?: boolean }) => {
      const r = getRule(id);
      if (opts.json) return void process.stdout.write(JSON.stringify(r, null, 2) + '\n');
      const refs = r.references.length ? `\nReferences:\n${r.references.map((x) => `  - ${x}`).join('\n')}\n` : '';
      process.stdout.write(`${r.id} (${r.severity}): ${r.title}\n\nWhat it detects:\n  ${r.detects}\n\nWhy it is dangerous:\n  ${r.why}\n\nHow to fix or accept it:\n  ${r.fix}\n${refs}`);
    });
}
