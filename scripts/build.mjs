// Bundles the CLI, the worker and the library entry with esbuild (fast start-up: one file per entry).
import { build } from 'esbuild';

await build({
  entryPoints: { cli: 'src/cli/main.ts', worker: 'src/scan/worker.ts', index: 'src/index.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});
