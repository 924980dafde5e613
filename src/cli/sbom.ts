import type { Command } from 'commander';

/** `modelgate sbom` (not yet available). */
export function registerSbom(program: Command): void {
  void program;
}
