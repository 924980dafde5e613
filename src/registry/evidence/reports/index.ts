// Outside reports: detect the format from content and normalise it.
import { ModelgateError } from '../../../scan/model.ts';
import { isCycloneDx, parseCycloneDx } from './cyclonedx.ts';
import { isGrype, parseGrype } from './grype.ts';
import { isObject, type OutsideReport, type ReportFormat } from './model.ts';
import { isSyft, parseSyft } from './syft.ts';
import { isTrivy, parseTrivy } from './trivy.ts';

export * from './model.ts';

export const REPORT_FORMATS: readonly ReportFormat[] = ['trivy', 'grype', 'syft', 'cyclonedx'];

const PARSERS: { format: ReportFormat; detect: (d: unknown) => boolean; parse: (d: unknown) => OutsideReport }[] = [
  { format: 'cyclonedx', detect: isCycloneDx, parse: parseCycloneDx },
  { format: 'grype', detect: isGrype, parse: parseGrype },
  { format: 'syft', detect: isSyft, parse: parseSyft },
  { format: 'trivy', detect: isTrivy, parse: parseTrivy },
];

const SUPPORTED = 'Trivy JSON (trivy … --format json), Grype JSON (grype -o json), Syft JSON (syft -o json) or CycloneDX JSON';

function toDoc(input: string | Uint8Array | object): unknown {
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) return input;
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8');
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    const head = text.trimStart().slice(0, 1);
    const hint = head === '<' ? ' (XML? export JSON instead)' : '';
    throw new ModelgateError('REPORT_UNKNOWN_FORMAT', `not a JSON report${hint}: ${(e as Error).message}; expected ${SUPPORTED}`);
  }
}

/** The format of a parsed report, or null. */
export function detectReportFormat(doc: unknown): ReportFormat | null {
  return PARSERS.find((p) => p.detect(doc))?.format ?? null;
}

/**
 * Parses Trivy, Grype, Syft or CycloneDX JSON (detected from content, or `expect`ed) into an
 * OutsideReport. Unknown formats (SPDX included) are REPORT_UNKNOWN_FORMAT; a recognised format
 * with a broken structure is REPORT_MALFORMED naming the place.
 */
export function parseOutsideReport(input: string | Uint8Array | object, opts: { expect?: ReportFormat } = {}): OutsideReport {
  const doc = toDoc(input);
  const format = detectReportFormat(doc);
  if (!format) {
    if (isObject(doc) && (typeof doc.spdxVersion === 'string' || typeof doc['@context'] === 'string')) throw new ModelgateError('REPORT_UNKNOWN_FORMAT', `SPDX documents are not supported; export CycloneDX JSON instead (syft -o cyclonedx-json, trivy --format cyclonedx)`);
    const what = Array.isArray(doc) ? 'a JSON list' : isObject(doc) ? `a JSON object with keys ${Object.keys(doc).slice(0, 6).join(', ') || '(none)'}` : `a JSON ${typeof doc}`;
    throw new ModelgateError('REPORT_UNKNOWN_FORMAT', `unrecognised report: ${what}; expected ${SUPPORTED}`);
  }
  if (opts.expect && opts.expect !== format) throw new ModelgateError('REPORT_UNKNOWN_FORMAT', `expected a ${opts.expect} report, found ${format}`);
  return PARSERS.find((p) => p.format === format)!.parse(doc);
}
