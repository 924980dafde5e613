// The JSON Schema (draft 2020-12 subset ajv 8 understands) of modelgate.policy.yaml. `expected` is an
// annotation of ours: the phrase error messages use for what a value should look like.
import { DURATION_PATTERN } from './duration.ts';

const SEVERITY = { enum: ['info', 'low', 'medium', 'high', 'critical'], expected: 'a severity: info, low, medium, high or critical' };
const DURATION = { type: 'string', pattern: DURATION_PATTERN, expected: 'a duration: a whole number and a unit m, h, d or w (e.g. 30d, 12h, 2w)' };
const NAME = { type: 'string', pattern: '^[a-z][a-z0-9_-]{0,62}$', expected: 'a lower-case name (letters, digits, - and _; e.g. production, ml-lead)' };
const STRINGS = { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true };
const COUNT = { type: 'integer', minimum: 0 };
const nullable = (s: Record<string, unknown>) => ({ ...s, type: [s.type as string, 'null'] });

const requirements = {
  type: 'object',
  additionalProperties: false,
  properties: {
    maxEvidenceAge: { ...DURATION, type: ['string', 'null'] },
    scan: nullable({
      type: 'object',
      additionalProperties: false,
      properties: {
        maxSeverity: SEVERITY,
        waivableRules: { ...STRINGS, items: { type: 'string', pattern: '^MG-[A-Z0-9]+-[0-9]{3}$', expected: 'a rule id such as MG-RC-001' } },
        allowedFormats: { ...STRINGS, type: ['array', 'null'], items: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$', expected: 'a format id as scan reports it (safetensors, gguf, onnx, pickle, pytorch-zip…)' } },
        remoteCode: { type: 'boolean' },
      },
    }),
    license: nullable({
      type: 'object',
      additionalProperties: false,
      properties: { allowed: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: ['approved', 'review', 'forbidden'], expected: 'a license decision: approved, review or forbidden' } } },
    }),
    signature: nullable({
      type: 'object',
      additionalProperties: false,
      properties: { required: { type: 'boolean' }, identities: STRINGS, keys: STRINGS },
    }),
    evals: nullable({
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['suite', 'minPassRate'],
        properties: {
          suite: { type: 'string', minLength: 1 },
          minPassRate: { type: 'number', minimum: 0, maximum: 1, expected: 'a pass rate between 0 and 1 (0.95 = 95%)' },
          digest: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$', expected: 'a digest "sha256:" followed by 64 hex digits' },
        },
      },
    }),
    vulnerabilities: nullable({
      type: 'object',
      additionalProperties: false,
      properties: { maxCritical: COUNT, maxHigh: COUNT },
    }),
    approvals: nullable({
      type: 'object',
      additionalProperties: false,
      properties: { quorum: { type: 'integer', minimum: 0, maximum: 20 }, roles: { type: 'array', items: NAME } },
    }),
    waivers: nullable({
      type: 'object',
      additionalProperties: false,
      properties: {
        allowed: { type: 'boolean' },
        maxDuration: DURATION,
        grantors: { type: 'array', items: NAME, uniqueItems: true },
        requirements: { ...STRINGS, items: { type: 'string', pattern: '^(scan\\.formats|scan\\.remote-code|license|signature|vulnerabilities|eval:[^\\s]+)$', expected: 'a waivable requirement id: scan.formats, scan.remote-code, license, signature, vulnerabilities or eval:<suite> (eval:* for all suites); approvals are never waivable, and scan findings are waived per rule through scan.waivableRules' } },
      },
    }),
  },
};

const tier = {
  type: 'object',
  propertyNames: NAME,
  additionalProperties: { $ref: '#/$defs/requirements' },
};

export const POLICY_SCHEMA = {
  $id: 'https://modelgate.dev/schemas/policy-v1.json',
  title: 'modelgate release policy',
  type: 'object',
  additionalProperties: false,
  required: ['version', 'environments', 'tiers'],
  properties: {
    version: { const: 1, expected: 'the number 1 (the policy format version)' },
    environments: { type: 'array', minItems: 1, uniqueItems: true, items: NAME },
    roles: { type: 'array', uniqueItems: true, items: NAME },
    defaults: { $ref: '#/$defs/requirements' },
    tiers: {
      type: 'object',
      additionalProperties: false,
      required: ['low', 'medium', 'high', 'critical'],
      properties: { low: tier, medium: tier, high: tier, critical: tier },
    },
  },
  $defs: { requirements },
} as const;

/** After merging layers, these fields must be set wherever their section is present. */
export const RESOLVED_REQUIRED: Record<string, string[]> = {
  scan: ['maxSeverity'],
  license: ['allowed'],
  signature: ['required'],
  approvals: ['quorum'],
  waivers: ['maxDuration'],
};
