// Shared helpers for tests that run the scanner and the CLI.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { scan, exitCodeFor, severityRank, type ScanReport, type Severity } from '../../src/index.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const FIXTURES = `${ROOT}test/fixtures`;
export const CLI = `${ROOT}bin/modelgate.js`;

export async function scanOne(path: string, hash = false): Promise<{ report: ScanReport; code: number; worst: Severity | null }> {
  const report = await scan([path], { jobs: 1, hash });
  return { report, code: exitCodeFor(report, 'high'), worst: report.summary.maxSeverity };
}

export function atLeast(s: Severity | null, floor: Severity): boolean {
  return s !== null && severityRank(s) >= severityRank(floor);
}

export function runCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: opts.cwd ?? ROOT, env: { ...process.env, NO_COLOR: '1', ...opts.env }, maxBuffer: 64 << 20 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function findingsAbove(report: ScanReport, floor: Severity): string[] {
  return report.files.flatMap((f) => f.findings.filter((x) => severityRank(x.severity) > severityRank(floor)).map((x) => `${x.severity} ${x.ruleId} ${x.path}: ${x.message}`));
}
