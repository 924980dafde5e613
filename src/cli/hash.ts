import type { Command } from 'commander';

/** `modelgate hash` (not yet available). */
export function registerHash(program: Command): void {
  void program;
}
