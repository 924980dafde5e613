import type { Rule } from '../model.ts';

export const textRules: Rule[] = [];
