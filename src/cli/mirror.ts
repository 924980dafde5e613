import type { Command } from 'commander';

/** `modelgate mirror` (not yet available). */
export function registerMirror(program: Command): void {
  void program;
}
