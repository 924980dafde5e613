// Door of the registry store: open a SQLite or PostgreSQL registry, run migrations, typed tables.
export { openStore, migrate, resolveStoreUrl, redact, DEFAULT_DB, type Store, type StoreKind, type StoreTarget, type Tx, type OpenOptions } from './open.ts';
export { MIGRATIONS, type Migration } from './migrations.ts';
export type * from './schema.ts';
