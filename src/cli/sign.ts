import type { Command } from 'commander';

/** `modelgate sign` (not yet available). */
export function registerSign(program: Command): void {
  void program;
}
