import type { Command } from 'commander';

/** `modelgate license` (not yet available). */
export function registerLicense(program: Command): void {
  void program;
}
