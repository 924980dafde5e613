// The kinds of evidence, their predicate types and a JSON Schema per predicate: a malformed
// predicate is refused before it is signed or stored, and again when an envelope is read back.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import formatsModule from 'ajv-formats';
import { ModelgateError } from '../../scan/model.ts';

export const EVIDENCE_KINDS = ['scan', 'license', 'signature', 'sbom', 'card', 'eval', 'eval-run', 'approval', 'waiver', 'gate', 'deployment', 'outside-report'] as const;
export type EvidenceKind = (typeof EVIDENCE_KINDS)[number];

export interface KindInfo {
  kind: EvidenceKind;
  predicateType: string;
  description: string;
  schema: Record<string, unknown>;
}

const SEVERITY_OR_NULL = { enum: ['critical', 'high', 'medium', 'low', 'info', null] };
const HEX64 = { type: 'string', pattern: '^[0-9a-f]{64}$' };
const DATE = { type: 'string', format: 'date-time' };
const NAME = { type: 'string', minLength: 1 };
const COUNTS = {
  type: 'object',
  required: ['critical', 'high', 'medium', 'low', 'unknown'],
  properties: Object.fromEntries(['critical', 'high', 'medium', 'low', 'unknown'].map((k) => [k, { type: 'integer', minimum: 0 }])),
};
/** in-toto ResourceDescriptor: at least one of name, uri, digest. */
const RESOURCE = {
  type: 'object',
  anyOf: [{ required: ['name'] }, { required: ['uri'] }, { required: ['digest'] }],
  properties: { name: { type: 'string' }, uri: { type: 'string' }, digest: { type: 'object', additionalProperties: { type: 'string' } }, mediaType: { type: 'string' }, annotations: { type: 'object' } },
};

const obj = (required: string[], properties: Record<string, unknown>) => ({ type: 'object', required, properties });

const KINDS: KindInfo[] = [
  {
    kind: 'scan',
    predicateType: 'https://modelgate.dev/scan/v1',
    description: 'modelgate scan: summary, maximum severity per file, and the model-format inventory',
    schema: obj(['scanner', 'summary', 'files', 'models'], {
      scanner: obj(['name', 'version'], { name: NAME, version: NAME }),
      summary: obj(['files', 'scanned', 'skipped', 'errors', 'maxSeverity', 'bySeverity'], {
        files: { type: 'integer', minimum: 0 },
        scanned: { type: 'integer', minimum: 0 },
        skipped: { type: 'integer', minimum: 0 },
        errors: { type: 'integer', minimum: 0 },
        maxSeverity: SEVERITY_OR_NULL,
        bySeverity: { type: 'object', additionalProperties: { type: 'integer', minimum: 0 } },
      }),
      files: { type: 'array', items: obj(['path', 'format', 'status', 'maxSeverity', 'findings'], { path: NAME, sha256: { anyOf: [HEX64, { type: 'null' }] }, format: { type: 'string' }, status: { enum: ['scanned', 'skipped', 'error'] }, maxSeverity: SEVERITY_OR_NULL, findings: { type: 'integer', minimum: 0 }, rules: { type: 'array', items: { type: 'string' } } }) },
      findingsByRule: { type: 'object', additionalProperties: obj(['severity', 'count'], { severity: { enum: ['critical', 'high', 'medium', 'low', 'info'] }, count: { type: 'integer', minimum: 1 } }) },
      models: { type: 'array', items: obj(['path', 'formats', 'modelFormats'], { path: { type: 'string' }, formats: { type: 'object', additionalProperties: { type: 'integer' } }, modelFormats: { type: 'array', items: { type: 'string' } } }) },
    }),
  },
  {
    kind: 'license',
    predicateType: 'https://modelgate.dev/license/v1',
    description: 'license decision for an intended use',
    schema: obj(['licenses', 'use', 'decision', 'reasons'], {
      licenses: { type: 'array', items: { type: 'string' } },
      use: NAME,
      decision: { enum: ['approved', 'review', 'forbidden'] },
      reasons: { type: 'array', items: obj(['decision', 'text'], { decision: { enum: ['approved', 'review', 'forbidden'] }, text: { type: 'string' } }) },
      obligations: { type: 'array', items: { type: 'string' } },
      licenseTextSha256: { anyOf: [HEX64, { type: 'null' }] },
    }),
  },
  {
    kind: 'signature',
    predicateType: 'https://modelgate.dev/signature/v1',
    description: 'result of verifying the model signature (OpenSSF Model Signing bundle)',
    schema: obj(['verified', 'method'], {
      verified: { type: 'boolean' },
      method: { enum: ['key', 'certificate', 'sigstore', 'none'] },
      identity: { type: 'string' },
      issuer: { type: 'string' },
      keyHint: { type: 'string' },
      bundleSha256: HEX64,
      error: { type: 'string' },
    }),
  },
  {
    kind: 'sbom',
    predicateType: 'https://modelgate.dev/sbom/v1',
    description: 'reference to the CycloneDX document of the model, by digest',
    schema: obj(['bom'], {
      bom: obj(['mediaType', 'digest'], { mediaType: { enum: ['application/vnd.cyclonedx+json', 'application/spdx+json'] }, digest: obj(['sha256'], { sha256: HEX64 }), uri: { type: 'string' }, specVersion: { type: 'string' }, serialNumber: { type: 'string' }, components: { type: 'integer', minimum: 0 } }),
    }),
  },
  {
    kind: 'card',
    predicateType: 'https://modelgate.dev/card/v1',
    description: 'the model card: its digest and the fields extracted from it',
    schema: obj(['path', 'sha256', 'metadata'], { path: NAME, sha256: HEX64, metadata: { type: 'object' } }),
  },
  {
    kind: 'eval',
    predicateType: 'https://in-toto.io/attestation/test-result/v0.1',
    description: 'an eval run (in-toto test-result, with the suite digest in configuration and the pass rate in summary)',
    schema: obj(['result', 'configuration', 'passedTests', 'failedTests', 'summary'], {
      result: { enum: ['PASSED', 'WARNED', 'FAILED'] },
      configuration: { type: 'array', minItems: 1, items: RESOURCE },
      url: { type: 'string' },
      passedTests: { type: 'array', items: { type: 'string' } },
      warnedTests: { type: 'array', items: { type: 'string' } },
      failedTests: { type: 'array', items: { type: 'string' } },
      summary: obj(['suite', 'suiteDigest', 'total', 'passed', 'passRate'], {
        suite: NAME,
        suiteDigest: HEX64,
        total: { type: 'integer', minimum: 0 },
        passed: { type: 'integer', minimum: 0 },
        passRate: { type: 'number', minimum: 0, maximum: 1 },
        ci: obj(['low', 'high', 'level'], { low: { type: 'number', minimum: 0, maximum: 1 }, high: { type: 'number', minimum: 0, maximum: 1 }, level: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 } }),
        endpoint: { type: 'string' },
      }),
    }),
  },
  {
    kind: 'eval-run',
    predicateType: 'https://modelgate.dev/eval-result/v1',
    description: 'the full result of `modelgate eval` (per-suite statistics and transcripts), as that command writes it',
    schema: obj(['endpoint', 'model', 'minPassRate', 'verdict', 'suites'], {
      endpoint: { type: 'string' },
      model: { type: 'string' },
      minPassRate: { type: 'number', minimum: 0, maximum: 1 },
      verdict: { enum: ['pass', 'fail'] },
      startedAt: DATE,
      finishedAt: DATE,
      suites: {
        type: 'array',
        items: obj(['id', 'version', 'digest', 'total', 'passed', 'passRate', 'ci95'], {
          id: NAME,
          version: { type: 'string' },
          digest: { type: 'string', pattern: '^(sha256:)?[0-9a-f]{64}$' },
          total: { type: 'integer', minimum: 0 },
          passed: { type: 'integer', minimum: 0 },
          passRate: { type: 'number', minimum: 0, maximum: 1 },
          ci95: { type: 'array', minItems: 2, maxItems: 2, items: { type: 'number', minimum: 0, maximum: 1 } },
        }),
      },
    }),
  },
  {
    kind: 'approval',
    predicateType: 'https://modelgate.dev/approval/v1',
    description: 'a human approval bound to the root digest',
    schema: obj(['approver', 'role', 'decision', 'at'], {
      approver: NAME,
      role: NAME,
      decision: { enum: ['approved', 'rejected'] },
      at: DATE,
      expiresAt: DATE,
      tier: { enum: ['low', 'medium', 'high', 'critical'] },
      environment: { type: 'string' },
      note: { type: 'string' },
      evidence: { type: 'array', items: HEX64 },
    }),
  },
  {
    kind: 'waiver',
    predicateType: 'https://modelgate.dev/waiver/v1',
    description: 'a time-boxed exception to one gate requirement',
    schema: obj(['requirement', 'reason', 'grantedBy', 'at', 'expiresAt'], {
      requirement: NAME,
      reason: NAME,
      grantedBy: NAME,
      role: { type: 'string' },
      approvedBy: { type: 'array', items: NAME },
      environment: { type: 'string' },
      at: DATE,
      expiresAt: DATE,
    }),
  },
  {
    kind: 'gate',
    predicateType: 'https://modelgate.dev/gate/v1',
    description: 'a release-gate decision: every requirement with pass, fail, missing or waived',
    schema: obj(['environment', 'decision', 'requirements', 'evaluatedAt'], {
      environment: NAME,
      tier: { enum: ['low', 'medium', 'high', 'critical'] },
      decision: { enum: ['pass', 'fail'] },
      policyDigest: HEX64,
      evaluatedAt: DATE,
      requirements: { type: 'array', items: obj(['id', 'status'], { id: NAME, status: { enum: ['pass', 'fail', 'missing', 'waived'] }, reason: { type: 'string' }, details: { type: 'object' }, evidence: { type: 'array', items: HEX64 } }) },
    }),
  },
  {
    kind: 'deployment',
    predicateType: 'https://modelgate.dev/deployment/v1',
    description: 'a deployment, rollback or revocation in an environment',
    schema: obj(['environment', 'action', 'by', 'at'], {
      environment: NAME,
      action: { enum: ['deploy', 'rollback', 'revoke'] },
      by: NAME,
      at: DATE,
      reason: { type: 'string' },
      previousDigest: { anyOf: [HEX64, { type: 'null' }] },
      gateEvidence: HEX64,
    }),
  },
  {
    kind: 'outside-report',
    predicateType: 'https://modelgate.dev/outside-report/v1',
    description: 'a Trivy/Grype vulnerability report or a Syft/CycloneDX SBOM of the serving container or dependency set, normalised',
    schema: obj(['format', 'tool', 'toolVersion', 'target', 'counts', 'findings', 'source'], {
      format: { enum: ['trivy', 'grype', 'syft', 'cyclonedx'] },
      scope: { type: 'string' },
      tool: NAME,
      toolVersion: { type: ['string', 'null'] },
      target: { type: ['string', 'null'] },
      counts: COUNTS,
      findings: { type: 'array', items: obj(['id', 'severity', 'package', 'version', 'fixedIn'], { id: NAME, severity: { enum: ['critical', 'high', 'medium', 'low', 'unknown'] }, package: { type: 'string' }, version: { type: ['string', 'null'] }, fixedIn: { type: ['string', 'null'] } }) },
      components: obj(['count', 'licenses', 'unlicensed'], { count: { type: 'integer', minimum: 0 }, licenses: { type: 'object', additionalProperties: { type: 'integer' } }, unlicensed: { type: 'integer', minimum: 0 } }),
      source: obj(['sha256', 'bytes'], { sha256: HEX64, bytes: { type: 'integer', minimum: 0 }, name: { type: 'string' } }),
    }),
  },
];

const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is the module object.
const addFormats = ((formatsModule as unknown as { default?: unknown }).default ?? formatsModule) as (a: Ajv) => void;
addFormats(ajv);

const BY_KIND = new Map<EvidenceKind, KindInfo & { validate: ValidateFunction }>();
const BY_TYPE = new Map<string, KindInfo>();
for (const k of KINDS) {
  BY_KIND.set(k.kind, { ...k, validate: ajv.compile(k.schema) });
  BY_TYPE.set(k.predicateType, k);
}

/** Every kind with its predicate type and schema, in a stable order. */
export function evidenceKinds(): readonly KindInfo[] {
  return KINDS;
}

export function isEvidenceKind(s: string): s is EvidenceKind {
  return BY_KIND.has(s as EvidenceKind);
}

export function kindInfo(kind: string): KindInfo {
  const k = BY_KIND.get(kind as EvidenceKind);
  if (!k) throw new ModelgateError('EVIDENCE_UNKNOWN_KIND', `unknown evidence kind "${kind}"; expected one of ${EVIDENCE_KINDS.join(', ')}`);
  return k;
}

export function kindForPredicateType(predicateType: string): EvidenceKind {
  const k = BY_TYPE.get(predicateType);
  if (!k) throw new ModelgateError('EVIDENCE_UNKNOWN_KIND', `unknown predicateType "${predicateType}"; expected one of ${KINDS.map((x) => x.predicateType).join(', ')}`);
  return k.kind;
}

function describe(e: ErrorObject): string {
  const at = `predicate${e.instancePath.replace(/\//g, '.').replace(/\.(\d+)(?=\.|$)/g, '[$1]')}`;
  switch (e.keyword) {
    case 'required':
      return `${at}: missing required field "${(e.params as { missingProperty: string }).missingProperty}"`;
    case 'enum':
      return `${at}: must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return `${at}: ${e.message ?? e.keyword}`;
  }
}

/** The schema errors of a predicate for a kind, one readable line each; empty when valid. */
export function predicateErrors(kind: EvidenceKind, predicate: unknown): string[] {
  const k = BY_KIND.get(kind)!;
  if (k.validate(predicate)) return [];
  const lines = (k.validate.errors ?? []).map(describe);
  return [...new Set(lines)];
}

/** Throws EVIDENCE_BAD_PREDICATE naming every problem when the predicate does not fit its kind. */
export function assertPredicate(kind: EvidenceKind, predicate: unknown): void {
  const errors = predicateErrors(kind, predicate);
  if (errors.length) throw new ModelgateError('EVIDENCE_BAD_PREDICATE', `${kind} evidence: ${errors.join('; ')}`);
}
