import type { Command } from 'commander';

/** `modelgate fetch` (not yet available). */
export function registerFetch(program: Command): void {
  void program;
}
