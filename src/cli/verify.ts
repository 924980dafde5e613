import type { Command } from 'commander';

/** `modelgate verify` (not yet available). */
export function registerVerify(program: Command): void {
  void program;
}
