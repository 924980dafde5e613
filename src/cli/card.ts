import type { Command } from 'commander';

/** `modelgate card` (not yet available). */
export function registerCard(program: Command): void {
  void program;
}
