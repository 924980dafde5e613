// Ordered, versioned schema migrations: one definition for both stores, written with Kysely's schema
// builder (no hand-written SQL dialects). A migration runs once, inside a transaction, and its
// version is recorded in `schema_migrations`; `migrate()` is idempotent and safe when several
// processes open the same store at once (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock).
// Never edit a released migration: add a new one with the next version.
import { sql, type Kysely } from 'kysely';

export interface Migration {
  version: number;
  name: string;
  up(db: Kysely<any>): Promise<void>;
}

const text = 'text' as const;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'registry schema',
    async up(db) {
      await db.schema.createTable('models')
        .addColumn('name', text, (c) => c.primaryKey())
        .addColumn('owner', text, (c) => c.notNull())
        .addColumn('description', text)
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('created_by', text, (c) => c.notNull())
        .execute();

      await db.schema.createTable('versions')
        .addColumn('model', text, (c) => c.notNull().references('models.name'))
        .addColumn('version', text, (c) => c.notNull())
        .addColumn('root_digest', text, (c) => c.notNull())
        .addColumn('source', text)
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('created_by', text, (c) => c.notNull())
        .addColumn('revoked_at', text)
        .addColumn('revoked_by', text)
        .addColumn('revoked_reason', text)
        .addPrimaryKeyConstraint('versions_pk', ['model', 'version'])
        .addUniqueConstraint('versions_model_digest_uq', ['model', 'root_digest'])
        .execute();
      await db.schema.createIndex('versions_digest_ix').on('versions').column('root_digest').execute();

      await db.schema.createTable('version_files')
        .addColumn('model', text, (c) => c.notNull())
        .addColumn('version', text, (c) => c.notNull())
        .addColumn('path', text, (c) => c.notNull())
        .addColumn('sha256', text, (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('version_files_pk', ['model', 'version', 'path'])
        .addForeignKeyConstraint('version_files_version_fk', ['model', 'version'], 'versions', ['model', 'version'])
        .execute();
      await db.schema.createIndex('version_files_sha_ix').on('version_files').column('sha256').execute();

      await db.schema.createTable('intakes')
        .addColumn('model', text, (c) => c.notNull())
        .addColumn('version', text, (c) => c.notNull())
        .addColumn('owner', text, (c) => c.notNull())
        .addColumn('intended_use', text, (c) => c.notNull())
        .addColumn('sensitivity', text, (c) => c.notNull().check(sql`sensitivity in ('public','internal','confidential','restricted')`))
        .addColumn('tier', text, (c) => c.notNull().check(sql`tier in ('low','medium','high','critical')`))
        .addColumn('publisher', text)
        .addColumn('target_env', text)
        .addColumn('submitter', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .addPrimaryKeyConstraint('intakes_pk', ['model', 'version'])
        .addForeignKeyConstraint('intakes_version_fk', ['model', 'version'], 'versions', ['model', 'version'])
        .execute();

      await db.schema.createTable('evidence')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('root_digest', text, (c) => c.notNull())
        .addColumn('kind', text, (c) => c.notNull())
        .addColumn('predicate_type', text, (c) => c.notNull())
        .addColumn('envelope', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('created_by', text)
        .execute();
      await db.schema.createIndex('evidence_digest_kind_ix').on('evidence').columns(['root_digest', 'kind', 'created_at']).execute();

      await db.schema.createTable('approvals')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('model', text, (c) => c.notNull())
        .addColumn('version', text, (c) => c.notNull())
        .addColumn('root_digest', text, (c) => c.notNull())
        .addColumn('approved_by', text, (c) => c.notNull())
        .addColumn('role', text, (c) => c.notNull())
        .addColumn('note', text)
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('expires_at', text)
        .addColumn('revoked_at', text)
        .addForeignKeyConstraint('approvals_version_fk', ['model', 'version'], 'versions', ['model', 'version'])
        .execute();
      await db.schema.createIndex('approvals_digest_ix').on('approvals').column('root_digest').execute();
      await db.schema.createIndex('approvals_version_ix').on('approvals').columns(['model', 'version']).execute();

      await db.schema.createTable('waivers')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('model', text, (c) => c.notNull())
        .addColumn('version', text, (c) => c.notNull())
        .addColumn('root_digest', text, (c) => c.notNull())
        .addColumn('env', text, (c) => c.notNull())
        .addColumn('requirement', text, (c) => c.notNull())
        .addColumn('reason', text, (c) => c.notNull())
        .addColumn('requested_by', text, (c) => c.notNull())
        .addColumn('approved_by', text)
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('expires_at', text, (c) => c.notNull())
        .addColumn('revoked_at', text)
        .execute();
      await db.schema.createIndex('waivers_digest_env_ix').on('waivers').columns(['root_digest', 'env']).execute();

      await db.schema.createTable('environments')
        .addColumn('name', text, (c) => c.primaryKey())
        .addColumn('description', text)
        .addColumn('created_at', text, (c) => c.notNull())
        .execute();

      await db.schema.createTable('aliases')
        .addColumn('env', text, (c) => c.notNull().references('environments.name'))
        .addColumn('model', text, (c) => c.notNull())
        .addColumn('version', text, (c) => c.notNull())
        .addColumn('root_digest', text, (c) => c.notNull())
        .addColumn('updated_at', text, (c) => c.notNull())
        .addColumn('updated_by', text, (c) => c.notNull())
        .addPrimaryKeyConstraint('aliases_pk', ['env', 'model'])
        .addForeignKeyConstraint('aliases_version_fk', ['model', 'version'], 'versions', ['model', 'version'])
        .execute();
      await db.schema.createIndex('aliases_digest_ix').on('aliases').column('root_digest').execute();

      await db.schema.createTable('deployments')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('env', text, (c) => c.notNull())
        .addColumn('model', text, (c) => c.notNull())
        .addColumn('version', text, (c) => c.notNull())
        .addColumn('root_digest', text, (c) => c.notNull())
        .addColumn('action', text, (c) => c.notNull().check(sql`action in ('deploy','rollback','revoke')`))
        .addColumn('deployed_by', text, (c) => c.notNull())
        .addColumn('at', text, (c) => c.notNull())
        .addColumn('previous_version', text)
        .addColumn('reason', text)
        .execute();
      await db.schema.createIndex('deployments_digest_ix').on('deployments').column('root_digest').execute();
      await db.schema.createIndex('deployments_env_model_at_ix').on('deployments').columns(['env', 'model', 'at']).execute();

      await db.schema.createTable('components')
        .addColumn('kind', text, (c) => c.notNull())
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('digest', text, (c) => c.notNull())
        .addColumn('owner', text, (c) => c.notNull())
        .addColumn('path', text)
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('created_by', text, (c) => c.notNull())
        .addPrimaryKeyConstraint('components_pk', ['kind', 'name', 'digest'])
        .execute();
      await db.schema.createIndex('components_digest_ix').on('components').column('digest').execute();

      await db.schema.createTable('systems')
        .addColumn('name', text, (c) => c.primaryKey())
        .addColumn('owner', text, (c) => c.notNull())
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('needs_reassessment', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('reassessment_reason', text)
        .execute();

      await db.schema.createTable('system_pins')
        .addColumn('system', text, (c) => c.notNull().references('systems.name'))
        .addColumn('release', text, (c) => c.notNull())
        .addColumn('slot', text, (c) => c.notNull())
        .addColumn('kind', text, (c) => c.notNull())
        .addColumn('name', text, (c) => c.notNull())
        .addColumn('version', text)
        .addColumn('digest', text, (c) => c.notNull())
        .addColumn('pinned_at', text, (c) => c.notNull())
        .addColumn('pinned_by', text, (c) => c.notNull())
        .addPrimaryKeyConstraint('system_pins_pk', ['system', 'release', 'slot'])
        .execute();
      await db.schema.createIndex('system_pins_digest_ix').on('system_pins').column('digest').execute();

      await db.schema.createTable('identities')
        .addColumn('id', text, (c) => c.primaryKey())
        .addColumn('display_name', text)
        .addColumn('created_at', text, (c) => c.notNull())
        .addColumn('disabled_at', text)
        .execute();
      await db.schema.createTable('identity_roles')
        .addColumn('identity', text, (c) => c.notNull().references('identities.id'))
        .addColumn('role', text, (c) => c.notNull())
        .addPrimaryKeyConstraint('identity_roles_pk', ['identity', 'role'])
        .execute();

      await db.schema.createTable('audit_log')
        .addColumn('seq', 'bigint', (c) => c.primaryKey())
        .addColumn('at', text, (c) => c.notNull())
        .addColumn('actor', text, (c) => c.notNull())
        .addColumn('action', text, (c) => c.notNull())
        .addColumn('subject', text, (c) => c.notNull())
        .addColumn('details', text, (c) => c.notNull())
        .addColumn('prev_hash', text, (c) => c.notNull())
        .addColumn('hash', text, (c) => c.notNull().unique())
        .execute();
      await db.schema.createIndex('audit_subject_ix').on('audit_log').columns(['subject', 'seq']).execute();
    },
  },
];
