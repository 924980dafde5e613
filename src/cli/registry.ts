import type { Command } from 'commander';

/** Registry commands (not yet available). */
export function registerRegistry(program: Command): void {
  void program;
}
