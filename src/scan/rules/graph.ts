import type { Rule } from '../model.ts';

export const graphRules: Rule[] = [];
