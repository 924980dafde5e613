import type { Command } from 'commander';

/** `modelgate component` and `modelgate system` (not yet available). */
export function registerInventory(program: Command): void {
  void program;
}
