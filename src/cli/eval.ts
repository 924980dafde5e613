import type { Command } from 'commander';

/** `modelgate eval` (not yet available). */
export function registerEval(program: Command): void {
  void program;
}
