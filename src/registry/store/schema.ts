// The registry's tables, as one typed interface shared by SQLite and PostgreSQL.
//
// Conventions (identical on both stores, so a query typed here runs unchanged on either):
// - Names are text keys chosen by people (model names, environment names, identity ids); rows that
//   have no natural key use a text `id` the application generates (a UUID, or a content hash).
// - Times are ISO-8601 UTC text with milliseconds (`2026-11-29T11:04:06.123Z`): they sort as text.
// - JSON is stored as text (canonical JSON where it is hashed); booleans are integers 0/1.
// - Byte sizes and audit sequence numbers are 64-bit integers (PostgreSQL `bigint`, parsed back
//   to JS numbers; safe below 2^53).
// - Digests are lowercase hex SHA-256 with no prefix (64 characters).
//
//   models          name PK · owner · description · created_at · created_by
//   versions        (model, version) PK · root_digest UNIQUE per model (same bytes = same version) ·
//                   source (hf://…@commit, a path) · created_at · created_by · revoked_at/_by/_reason.
//                   Immutable apart from revocation; index on root_digest for `where DIGEST`.
//   version_files   (model, version, path) PK · sha256 · size. Index on sha256 for `where FILE-SHA`.
//   intakes         (model, version) PK · owner · intended_use · sensitivity (public|internal|
//                   confidential|restricted) · tier (low|medium|high|critical) · publisher ·
//                   target_env · submitter (separation of duties: cannot approve) · created_at
//   evidence        id PK = SHA-256 of the DSSE envelope bytes · root_digest · kind (scan, license,
//                   signature, sbom, card, eval, approval, waiver, gate, deployment, vuln, …) ·
//                   predicate_type · envelope (DSSE JSON text) · created_at · created_by.
//                   Index (root_digest, kind, created_at) for gate lookups.
//   approvals       id PK · model · version · root_digest (what was approved) · approved_by · role ·
//                   note · created_at · expires_at · revoked_at. Index (root_digest).
//   waivers         id PK · model · version · root_digest · env · requirement · reason ·
//                   requested_by · approved_by · created_at · expires_at · revoked_at.
//                   Index (root_digest, env).
//   environments    name PK · description · created_at
//   aliases         (env, model) PK · version · root_digest · updated_at · updated_by — the mutable
//                   pointer "what runs in env"; every move is a deployments row and an audit row.
//   deployments     id PK · env · model · version · root_digest · action (deploy|rollback|revoke) ·
//                   deployed_by · at · previous_version (null for the first) · reason.
//                   Indexes (root_digest), (env, model, at).
//   components      (kind, name, digest) PK · owner · path · created_at · created_by. kind is one of
//                   prompt|tool-schema|retrieval-index|eval-suite|provider-route|feature-flag|dataset.
//                   Index (digest).
//   systems         name PK · owner · created_at · needs_reassessment 0/1 · reassessment_reason
//   system_pins     (system, release, slot) PK · kind (model|prompt|…) · name · version (models) ·
//                   digest · pinned_at · pinned_by. Index (digest).
//   identities      id PK · display_name · created_at · disabled_at
//   identity_roles  (identity, role) PK
//   audit_log       seq PK (1, 2, 3 … no gaps) · at · actor · action · subject · details (canonical
//                   JSON text) · prev_hash · hash UNIQUE. Append-only, hash-chained: see
//                   src/registry/audit.
//   schema_migrations  version PK · name · applied_at
export interface ModelsTable { name: string; owner: string; description: string | null; created_at: string; created_by: string }
export interface VersionsTable {
  model: string; version: string; root_digest: string; source: string | null;
  created_at: string; created_by: string;
  revoked_at: string | null; revoked_by: string | null; revoked_reason: string | null;
}
export interface VersionFilesTable { model: string; version: string; path: string; sha256: string; size: number }
export interface IntakesTable {
  model: string; version: string; owner: string; intended_use: string; sensitivity: string; tier: string;
  publisher: string | null; target_env: string | null; submitter: string; created_at: string;
}
export interface EvidenceTable {
  id: string; root_digest: string; kind: string; predicate_type: string; envelope: string; created_at: string; created_by: string | null;
}
export interface ApprovalsTable {
  id: string; model: string; version: string; root_digest: string; approved_by: string; role: string;
  note: string | null; created_at: string; expires_at: string | null; revoked_at: string | null;
}
export interface WaiversTable {
  id: string; model: string; version: string; root_digest: string; env: string; requirement: string; reason: string;
  requested_by: string; approved_by: string | null; created_at: string; expires_at: string; revoked_at: string | null;
}
export interface EnvironmentsTable { name: string; description: string | null; created_at: string }
export interface AliasesTable { env: string; model: string; version: string; root_digest: string; updated_at: string; updated_by: string }
export interface DeploymentsTable {
  id: string; env: string; model: string; version: string; root_digest: string; action: string;
  deployed_by: string; at: string; previous_version: string | null; reason: string | null;
}
export interface ComponentsTable { kind: string; name: string; digest: string; owner: string; path: string | null; created_at: string; created_by: string }
export interface SystemsTable { name: string; owner: string; created_at: string; needs_reassessment: number; reassessment_reason: string | null }
export interface SystemPinsTable {
  system: string; release: string; slot: string; kind: string; name: string; version: string | null; digest: string; pinned_at: string; pinned_by: string;
}
export interface IdentitiesTable { id: string; display_name: string | null; created_at: string; disabled_at: string | null }
export interface IdentityRolesTable { identity: string; role: string }
export interface AuditLogTable { seq: number; at: string; actor: string; action: string; subject: string; details: string; prev_hash: string; hash: string }
export interface SchemaMigrationsTable { version: number; name: string; applied_at: string }

export interface RegistryDB {
  models: ModelsTable;
  versions: VersionsTable;
  version_files: VersionFilesTable;
  intakes: IntakesTable;
  evidence: EvidenceTable;
  approvals: ApprovalsTable;
  waivers: WaiversTable;
  environments: EnvironmentsTable;
  aliases: AliasesTable;
  deployments: DeploymentsTable;
  components: ComponentsTable;
  systems: SystemsTable;
  system_pins: SystemPinsTable;
  identities: IdentitiesTable;
  identity_roles: IdentityRolesTable;
  audit_log: AuditLogTable;
  schema_migrations: SchemaMigrationsTable;
}
