// `buildSbom()`: a CycloneDX 1.6 ML-BOM for a model folder or file. The library's models build what they
// support (metadata, components, hashes, licenses, properties, dependencies); `modelCard` and `pedigree`,
// which its 10.3 models lack, are added to the serialised JSON. Inputs are the card facts, per-file
// SHA-256 and the scanner's verdicts; nothing is loaded or executed.
import { randomUUID } from 'node:crypto';
import { basename, relative, sep } from 'node:path';
import { statSync } from 'node:fs';
import * as CDX from '@cyclonedx/cyclonedx-library';
import { extractCard } from '../card/index.ts';
import type { ModelCardRecord } from '../card/index.ts';
import { scan } from '../../scan/index.ts';
import type { FileReport, ScanReport, Severity } from '../../scan/index.ts';
import { maxSeverity } from '../../scan/index.ts';
import { hashFile } from '../../scan/hash.ts';
import { VERSION } from '../../version.ts';
import { reviewLicense } from '../../license/index.ts';
import type { CdxComponentJson, CdxModelCard, MlBom } from './types.ts';

export interface SbomOptions {
  /** BOM timestamp (default: now, or SOURCE_DATE_EPOCH when set). */
  timestamp?: Date;
  /** `urn:uuid:…` (default: a random UUID). */
  serialNumber?: string;
  /** Worker threads for the scan (default 1). */
  jobs?: number;
  /**
   * Licenses of the model as decided by the caller. Default: the license review of a folder
   * (`reviewLicense`: card front matter and LICENSE/NOTICE texts matched against the knowledge base),
   * else the card's `license` / `license_name` / `license_link` (or GGUF `general.license`).
   */
  licenses?: LicenseEntry[];
}

/** One license of the model: an SPDX id, a named license (`llama3`, `LicenseRef-…`), or an SPDX expression. */
export type LicenseEntry = { spdx: string; url?: string } | { name: string; url?: string } | { expression: string };

interface ReviewedLicenses {
  entries: LicenseEntry[];
  properties: Array<[string, string]>;
}

/** Licenses from the license review of a folder; null when it found none (the card's fields are used then). */
export function licensesFromReview(path: string, card: ModelCardRecord): ReviewedLicenses | null {
  if (!statSync(path).isDirectory()) return null; // a single weight file is not a license text
  const review = reviewLicense(path, { use: 'internal' });
  if (review.licenses.length === 0) return null;
  const link = card.license.licenseLink?.value;
  const props: Array<[string, string]> = [];
  if (review.expression) props.push(['modelgate:license:expression', review.expression]);
  for (const l of review.licenses) props.push([`modelgate:license:${l.spdx}:category`, l.category]);
  for (const ev of review.evidence) if (ev.sha256) props.push([`modelgate:license:file:${ev.file}:sha256`, ev.sha256]);
  const compound = review.expression !== null && /\s(AND|OR|WITH)\s/.test(review.expression);
  const entries: LicenseEntry[] = compound
    ? [{ expression: review.expression! }]
    : review.licenses.map((l): LicenseEntry => {
        const id: string = l.spdx;
        const known: boolean = CDX.SPDX.isSupportedSpdxId(id); // a type guard on string: keep `id` a string
        if (known) return { spdx: id };
        return { name: id.startsWith('LicenseRef-') ? l.name : id, ...(link ? { url: link } : {}) };
      });
  return { entries, properties: props };
}

export interface SbomResult {
  bom: MlBom;
  /** The BOM as JSON text (two-space indent, trailing newline). */
  json: string;
  card: ModelCardRecord;
  report: ScanReport;
}

export const MODEL_REF = 'model';
const MODEL_CARD_REF = 'model-card';

/** Hub license ids are SPDX ids in lower case, except model licenses and `other` / `unknown`. */
export function licensesFromCard(card: ModelCardRecord): LicenseEntry[] {
  const ids = card.license.license?.value ?? [];
  const name = card.license.licenseName?.value;
  const link = card.license.licenseLink?.value;
  const out: LicenseEntry[] = [];
  for (const id of ids) {
    if (id === 'unknown') continue;
    if (id === 'other') {
      out.push({ name: name ?? 'other', ...(link ? { url: link } : {}) });
      continue;
    }
    const spdx = CDX.SPDX.fixupSpdxId(id);
    out.push(spdx ? { spdx } : { name: id, ...(link ? { url: link } : {}) });
  }
  return out;
}

function sourceDate(): Date {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  if (epoch && /^\d+$/.test(epoch)) return new Date(Number(epoch) * 1000);
  return new Date();
}

const prop = (name: string, value: string | number | boolean): CDX.Models.Property => new CDX.Models.Property(name, String(value));

/** Severity of a top-level file: the worst of its own findings and its archive members'. */
function fileVerdicts(report: ScanReport): Map<string, { row: FileReport; members: FileReport[]; worst: Severity | null; findings: number }> {
  const out = new Map<string, { row: FileReport; members: FileReport[]; worst: Severity | null; findings: number }>();
  for (const row of report.files) {
    const top = row.path.split('!')[0];
    let v = out.get(top);
    if (!v) {
      if (row.path !== top) continue; // a member whose parent row is missing: not expected
      v = { row, members: [], worst: null, findings: 0 };
      out.set(top, v);
    } else v.members.push(row);
    v.findings += row.findings.length;
    v.worst = maxSeverity([...(v.worst ? [v.worst] : []), ...row.findings.map((f) => f.severity)]);
  }
  return out;
}

function relName(root: string, isDir: boolean, path: string): string {
  const r = isDir ? relative(root, path) : basename(path);
  return r.split(sep).join('/');
}

export async function buildSbom(path: string, options: SbomOptions = {}): Promise<SbomResult> {
  const card = extractCard(path);
  const isDir = statSync(path).isDirectory();
  // Hash each file once below; the scanner only parses.
  const report = await scan([path], { jobs: options.jobs ?? 1, hash: false });

  const bom = new CDX.Models.Bom();
  bom.serialNumber = options.serialNumber ?? `urn:uuid:${randomUUID()}`;
  bom.metadata.timestamp = options.timestamp ?? sourceDate();
  bom.metadata.tools.components.add(
    new CDX.Models.Component(CDX.Enums.ComponentType.Application, 'modelgate', {
      version: VERSION,
      description: 'Intake gate for ML model artifacts',
    }),
  );

  const model = new CDX.Models.Component(CDX.Enums.ComponentType.MachineLearningModel, card.name, { bomRef: MODEL_REF });
  let reviewed: ReviewedLicenses | null = null;
  if (!options.licenses) {
    try {
      reviewed = licensesFromReview(path, card);
    } catch (e) {
      // The card's own fields still describe the license; the failure is recorded, not hidden.
      model.properties.add(prop('modelgate:license:reviewError', (e as Error).message));
    }
  }
  for (const l of options.licenses ?? reviewed?.entries ?? licensesFromCard(card)) {
    if ('expression' in l) model.licenses.add(new CDX.Models.LicenseExpression(l.expression));
    else if ('spdx' in l) model.licenses.add(new CDX.Models.SpdxLicense(l.spdx, l.url ? { url: l.url } : {}));
    else model.licenses.add(new CDX.Models.NamedLicense(l.name, l.url ? { url: l.url } : {}));
  }
  for (const [name, value] of reviewed?.properties ?? []) model.properties.add(prop(name, value));
  if (card.license.license) model.properties.add(prop('modelgate:license:declared', card.license.license.value.join(', ')));

  // The scanner's verdict for the model as a whole and its format inventory.
  const s = report.summary;
  model.properties.add(prop('modelgate:scan:maxSeverity', s.maxSeverity ?? 'none'));
  model.properties.add(prop('modelgate:scan:files', s.files));
  model.properties.add(prop('modelgate:scan:errors', s.errors));
  for (const sev of ['critical', 'high', 'medium', 'low', 'info'] as const) if (s.bySeverity[sev] > 0) model.properties.add(prop(`modelgate:scan:findings:${sev}`, s.bySeverity[sev]));
  const inventory = report.models[0];
  if (inventory) {
    if (inventory.modelFormats.length > 0) model.properties.add(prop('modelgate:modelFormats', inventory.modelFormats.join(',')));
    for (const [fmt, n] of Object.entries(inventory.formats).sort()) model.properties.add(prop(`modelgate:format:${fmt}`, n));
  }
  for (const a of card.autoMap) {
    for (const [cls, ref] of Object.entries(a.entries)) model.properties.add(prop(`modelgate:autoMap:${cls}`, `${ref} (${a.source.file})`));
  }

  // One `file` component per file (archive members are summarised on their file).
  for (const [top, v] of fileVerdicts(report)) {
    const name = relName(path, isDir, top);
    const file = new CDX.Models.Component(CDX.Enums.ComponentType.File, name, { bomRef: `file:${name}` });
    file.hashes.set(CDX.Enums.HashAlgorithm['SHA-256'], hashFile(top));
    file.properties.add(prop('modelgate:format', v.row.format));
    file.properties.add(prop('modelgate:size', v.row.size));
    file.properties.add(prop('modelgate:scan:status', v.row.status));
    file.properties.add(prop('modelgate:scan:maxSeverity', v.worst ?? 'none'));
    file.properties.add(prop('modelgate:scan:findings', v.findings));
    if (v.members.length > 0) file.properties.add(prop('modelgate:members', v.members.length));
    model.components.add(file);
    model.dependencies.add(file.bomRef);
  }
  bom.components.add(model);

  const serializer = new CDX.Serialize.JsonSerializer(new CDX.Serialize.JSON.Normalize.Factory(CDX.Spec.Spec1dot6));
  const doc = JSON.parse(serializer.serialize(bom, { sortLists: false })) as MlBom;
  const modelJson = doc.components?.find((c) => c['bom-ref'] === MODEL_REF);
  if (!modelJson) throw new Error('serialised BOM lost the model component');
  modelJson.modelCard = modelCardOf(card);
  const ancestors = ancestorsOf(card);
  if (ancestors.length > 0) modelJson.pedigree = { ancestors };
  return { bom: doc, json: `${JSON.stringify(doc, null, 2)}\n`, card, report };
}

/** Inputs and outputs of a few common Hub pipeline tags. */
const IO: Record<string, [string, string]> = {
  'text-generation': ['text', 'text'],
  'text2text-generation': ['text', 'text'],
  'image-text-to-text': ['image, text', 'text'],
  'fill-mask': ['text', 'text'],
  'text-classification': ['text', 'label'],
  'token-classification': ['text', 'labels'],
  'feature-extraction': ['text', 'embedding vector'],
  'sentence-similarity': ['text', 'similarity score'],
  'automatic-speech-recognition': ['audio', 'text'],
  'text-to-image': ['text', 'image'],
  'image-classification': ['image', 'label'],
  translation: ['text', 'text'],
  summarization: ['text', 'text'],
};

function modelCardOf(card: ModelCardRecord): CdxModelCard {
  const mc: CdxModelCard = { 'bom-ref': MODEL_CARD_REF };
  const params: NonNullable<CdxModelCard['modelParameters']> = {};
  if (card.pipelineTag) params.task = card.pipelineTag.value;
  if (card.modelType) params.architectureFamily = card.modelType.value;
  if (card.architectures) params.modelArchitecture = card.architectures.value.join(', ');
  if (card.datasets) params.datasets = card.datasets.value.map((name) => ({ type: 'dataset', name }));
  const io = card.pipelineTag ? IO[card.pipelineTag.value] : undefined;
  if (io) {
    params.inputs = [{ format: io[0] }];
    params.outputs = [{ format: io[1] }];
  }
  if (Object.keys(params).length > 0) mc.modelParameters = params;

  if (card.evalResults) {
    mc.quantitativeAnalysis = {
      performanceMetrics: card.evalResults.value.map((e) => ({ type: e.metric, value: e.value, ...(e.dataset ? { slice: e.dataset } : {}) })),
    };
  }

  const limits: string[] = [];
  if (card.contextLength) limits.push(`Context window: ${card.contextLength.value} tokens (${card.contextLength.sources[0].file} ${card.contextLength.sources[0].key}).`);
  if (card.quantization) limits.push(`Quantized weights: ${card.quantization.value}.`);
  for (const a of card.autoMap) {
    limits.push(`Loading runs code shipped with the model (${a.source.file} auto_map: ${Object.keys(a.entries).join(', ')}); requires trust_remote_code.${a.crossRepo.length ? ` Code comes from other repositories: ${a.crossRepo.join(', ')}.` : ''}`);
  }
  if (limits.length > 0) mc.considerations = { technicalLimitations: limits };

  const props: Array<{ name: string; value: string }> = [];
  const add = (name: string, value: unknown): void => {
    if (value !== undefined && value !== null) props.push({ name: `modelgate:${name}`, value: typeof value === 'string' ? value : JSON.stringify(value) });
  };
  add('parameters', card.parameters?.value);
  if (card.parameters?.estimate) add('parameters:estimate', 'true');
  add('tensorDtypes', card.tensorDtypes?.value);
  add('declaredDtype', card.declaredDtype?.value);
  add('contextLength', card.contextLength?.value);
  add('tokenizer:class', card.tokenizer.class?.value);
  add('tokenizer:vocabSize', card.tokenizer.vocabSize?.value);
  add('tokenizer:specialTokens', card.tokenizer.specialTokens?.value);
  for (const t of card.chatTemplates) add(`chatTemplate:${t.name}:sha256`, `${t.sha256} (${t.source.file} ${t.source.key})`);
  add('generationConfig', card.generationConfig?.value);
  add('baseModelRelation', card.baseModelRelation?.value);
  add('language', card.language?.value.join(','));
  add('libraryName', card.libraryName?.value);
  if (props.length > 0) mc.properties = props;
  return mc;
}

function ancestorsOf(card: ModelCardRecord): CdxComponentJson[] {
  return (card.baseModel?.value ?? []).map((id) => {
    const c: CdxComponentJson = { type: 'machine-learning-model', 'bom-ref': `base-model:${id}`, name: id };
    if (/^[\w.-]+\/[\w.-]+$/.test(id)) c.purl = `pkg:huggingface/${id}`;
    const relation = card.baseModelRelation?.value;
    c.properties = [{ name: 'modelgate:source', value: `${card.baseModel!.sources[0].file} ${card.baseModel!.sources[0].key}` }, ...(relation ? [{ name: 'modelgate:relation', value: relation }] : [])];
    return c;
  });
}
