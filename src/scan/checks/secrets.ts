// Secrets in every text entry (configs, code, notebooks, cards, key files without an extension).
// Matches arrive masked from scan/secrets: the finding never holds the full value.
import { byteOffsets, findSecrets } from '../secrets/index.ts';
import type { TextCheck } from './types.ts';

export const secretsChecks: TextCheck[] = [
  {
    id: 'secrets',
    applies: () => true,
    run(ctx) {
      // In code an unquoted value is an expression (token = get_token()), not a literal.
      const matches = findSecrets(ctx.text, { bareValues: ctx.kind !== 'python' });
      const byteAt = byteOffsets(ctx.text);
      for (const m of matches.slice(0, 200)) {
        const ruleId = m.kind === 'private-key' ? 'MG-SEC-002' : m.kind === 'generic-secret' ? 'MG-SEC-003' : 'MG-SEC-001';
        const what = m.key ? `${m.label} assigned to "${m.key}"` : m.label;
        ctx.input.report(ctx.entry, {
          ruleId,
          severity: m.severity,
          offset: byteAt(m.index),
          message: `${what} on line ${m.line}: ${m.masked} (${m.length} characters)${m.note ? `, ${m.note}` : ''}. Revoke it and remove it from the repository history.`,
          evidence: { kind: m.kind, masked: m.masked, length: m.length, line: m.line, ...(m.key ? { key: m.key } : {}) },
        });
      }
    },
  },
];
