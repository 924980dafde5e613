// The one rule catalogue. Every finding names a rule from here; `modelgate rules`, `explain` and SARIF read it.
import { ModelgateError, type Rule } from '../model.ts';
import { pickleRules } from './pickle.ts';
import { containerRules } from './containers.ts';
import { formatRules } from './formats.ts';
import { ggufRules } from './gguf.ts';
import { graphRules } from './graph.ts';
import { kerasHydraRules } from './keras-hydra.ts';
import { textRules } from './text.ts';

export const RULES: readonly Rule[] = [...pickleRules, ...containerRules, ...formatRules, ...ggufRules, ...graphRules, ...kerasHydraRules, ...textRules];

const BY_ID = new Map(RULES.map((r) => [r.id, r]));
if (BY_ID.size !== RULES.length) throw new Error('duplicate rule id in the catalogue');

export function getRule(id: string): Rule {
  const r = BY_ID.get(id.toUpperCase());
  if (!r) throw new ModelgateError('UNKNOWN_RULE', `no rule "${id}" (see \`modelgate rules\`)`);
  return r;
}

export function hasRule(id: string): boolean {
  return BY_ID.has(id);
}
