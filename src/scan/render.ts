// Renderers of a ScanReport: human text, the versioned JSON document, SARIF 2.1.0.
import pc from 'picocolors';
import { RULES } from './rules/index.ts';
import { SEVERITIES, severityRank, type FileReport, type Finding, type ScanReport, type Severity } from './model.ts';

export type ReportFormat = 'text' | 'json' | 'sarif';

export function renderReport(report: ScanReport, format: ReportFormat, opts: TextOptions = {}): string {
  if (format === 'json') return JSON.stringify(report, null, 2) + '\n';
  if (format === 'sarif') return JSON.stringify(toSarif(report), null, 2) + '\n';
  return renderText(report, opts);
}

// ---- text ---------------------------------------------------------------------------------------

export interface TextOptions {
  color?: boolean;
  /** Lowest severity printed (default low; JSON and SARIF always carry everything). */
  minSeverity?: Severity;
  failOn?: Severity;
  exitCode?: number;
}

const LABEL: Record<Severity, string> = { critical: 'CRITICAL', high: 'HIGH', medium: 'MEDIUM', low: 'LOW', info: 'INFO' };

export function renderText(report: ScanReport, opts: TextOptions = {}): string {
  const c = pc.createColors(opts.color ?? false);
  const paint: Record<Severity, (s: string) => string> = { critical: (s) => c.bold(c.red(s)), high: c.red, medium: c.yellow, low: c.cyan, info: c.dim };
  const min = severityRank(opts.minSeverity ?? 'low');
  const lines: string[] = [];
  for (const f of report.files) {
    const shown = f.findings.filter((x) => severityRank(x.severity) >= min).sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
    const mark = f.status === 'error' ? c.red('✖') : shown.some((x) => severityRank(x.severity) >= severityRank('high')) ? c.red('✖') : f.status === 'skipped' ? c.dim('·') : c.green('✔');
    const digest = f.sha256 ? `  sha256:${f.sha256.slice(0, 16)}…` : '';
    lines.push(`${mark} ${f.path}  ${c.dim(`${f.format}, ${formatBytes(f.size)}, ${f.status}${digest}`)}`);
    for (const x of shown) {
      const where = x.path !== f.path ? `  ${c.dim(x.path)}` : '';
      const at = x.offset !== null ? c.dim(` @${x.offset}`) : '';
      lines.push(`    ${paint[x.severity](LABEL[x.severity].padEnd(8))} ${c.bold(x.ruleId)}${at}${where}`);
      lines.push(`      ${x.message}`);
    }
  }
  for (const m of report.models) {
    const parts = Object.entries(m.formats).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ×${n}`);
    if (parts.length) lines.push(c.dim(`formats in ${m.path}: ${parts.join(', ')}`));
  }
  const s = report.summary;
  const counts = SEVERITIES.slice().reverse().filter((k) => s.bySeverity[k] > 0).map((k) => `${s.bySeverity[k]} ${k}`).join(', ') || 'no findings';
  lines.push('');
  lines.push(`${s.files} file${s.files === 1 ? '' : 's'}: ${s.scanned} scanned, ${s.skipped} skipped, ${s.errors} error${s.errors === 1 ? '' : 's'} — ${counts}`);
  if (opts.exitCode !== undefined) {
    const verdict = opts.exitCode === 0 ? c.green('PASS') : opts.exitCode === 1 ? c.red(`FAIL: findings at or above ${opts.failOn ?? 'high'}`) : c.red('FAIL: not every file could be scanned (fail closed)');
    lines.push(`${verdict} (exit ${opts.exitCode})`);
  }
  return lines.join('\n') + '\n';
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

// ---- SARIF 2.1.0 --------------------------------------------------------------------------------

const SARIF_LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { critical: 'error', high: 'error', medium: 'warning', low: 'note', info: 'note' };
// GitHub code scanning reads `security-severity` (0-10) to rank results.
const SECURITY_SEVERITY: Record<Severity, string> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0', info: '0.0' };

export function toSarif(report: ScanReport): object {
  const ruleIndex = new Map(RULES.map((r, i) => [r.id, i]));
  const artifactIndex = new Map<string, number>();
  const artifacts: object[] = [];
  const artifactFor = (f: FileReport) => {
    let i = artifactIndex.get(f.path);
    if (i === undefined) {
      i = artifacts.length;
      artifactIndex.set(f.path, i);
      artifacts.push({
        location: { uri: toUri(f.path) },
        length: f.size,
        ...(f.sha256 ? { hashes: { 'sha-256': f.sha256 } } : {}),
        properties: { format: f.format, status: f.status },
      });
    }
    return i;
  };
  const results: object[] = [];
  for (const f of report.files) {
    const idx = artifactFor(f);
    for (const x of f.findings) results.push(sarifResult(x, f, idx, ruleIndex));
  }
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'modelgate',
            version: report.tool.version,
            informationUri: 'https://github.com/modelgate/modelgate',
            rules: RULES.map((r) => ({
              id: r.id,
              name: r.title.replace(/[^A-Za-z0-9]+/g, ' ').trim().split(' ').map((w) => w[0].toUpperCase() + w.slice(1)).join(''),
              shortDescription: { text: r.title },
              fullDescription: { text: r.detects },
              help: { text: `${r.why}\n\nFix: ${r.fix}`, markdown: `**Why it matters.** ${r.why}\n\n**How to fix or accept it.** ${r.fix}${r.references.length ? `\n\n**References.** ${r.references.join(', ')}` : ''}` },
              defaultConfiguration: { level: SARIF_LEVEL[r.severity] },
              properties: { tags: ['security', 'ml-model'], 'security-severity': SECURITY_SEVERITY[r.severity], severity: r.severity },
            })),
          },
        },
        artifacts,
        results,
        invocations: [{ executionSuccessful: report.summary.errors === 0 }],
        properties: { models: report.models },
      },
    ],
  };
}

function sarifResult(x: Finding, f: FileReport, artifactIdx: number, ruleIndex: Map<string, number>): object {
  const top = f.path.split('!')[0];
  return {
    ruleId: x.ruleId,
    ruleIndex: ruleIndex.get(x.ruleId),
    level: SARIF_LEVEL[x.severity],
    message: { text: x.message },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: toUri(top), index: top === f.path ? artifactIdx : undefined },
          ...(x.offset !== null && top === x.path ? { region: { byteOffset: x.offset } } : {}),
        },
        logicalLocations: [{ fullyQualifiedName: x.path, kind: 'member' }],
      },
    ],
    properties: { severity: x.severity, path: x.path, offset: x.offset, evidence: x.evidence, 'security-severity': SECURITY_SEVERITY[x.severity] },
  };
}

function toUri(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}
