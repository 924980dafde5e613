import * as CDX from '@cyclonedx/cyclonedx-library';

/**
 * Validates BOM JSON text against the bundled CycloneDX 1.6 schema (strict: unknown fields are errors).
 * Returns null when valid, otherwise the validator's errors. Needs ajv, ajv-formats, ajv-formats-draft2019.
 */
export async function validateSbom(json: string): Promise<unknown> {
  return await new CDX.Validation.JsonStrictValidator(CDX.Spec.Version.v1dot6).validate(json);
}
