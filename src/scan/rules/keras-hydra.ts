import type { Rule } from '../model.ts';

export const kerasHydraRules: Rule[] = [];
