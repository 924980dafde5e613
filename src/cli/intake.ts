import type { Command } from 'commander';

/** Registry commands (not yet available). */
export function registerIntake(program: Command): void {
  void program;
}
