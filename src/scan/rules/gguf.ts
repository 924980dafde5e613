import type { Rule } from '../model.ts';

export const ggufRules: Rule[] = [];
