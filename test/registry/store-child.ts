// Child process for the registry concurrency and kill -9 tests (not a test file itself).
//   append URL N TAG GO_FILE   → prints READY, waits until GO_FILE exists, then N transactions of one
//                                audit entry each
//   open   URL GO_FILE         → prints READY, waits for GO_FILE, opens (migrates) and appends one entry
//   kill   URL TAG             → one transaction writing a model, a version, 50 files and 50 audit
//                                rows; prints MID half-way and then hangs until killed
import { existsSync } from 'node:fs';
import { openStore } from '../../src/registry/store/index.ts';
import { appendAudit } from '../../src/registry/audit/index.ts';

const [mode, url, ...rest] = process.argv.slice(2);
if (mode === 'open') {
  // open GO_FILE: a first use of a fresh store by several processes at once (migrations race)
  process.stdout.write('READY\n');
  while (!existsSync(rest[0])) await new Promise((r) => setTimeout(r, 2));
  const s = await openStore(url);
  await s.transaction((tx) => appendAudit(tx, { actor: 'opener', action: 'open', subject: String(process.pid) }));
  await s.close();
  process.stdout.write('DONE\n');
  process.exit(0);
}
const store = await openStore(url);
if (mode === 'append') {
  const [n, tag, go] = [Number(rest[0]), rest[1], rest[2]];
  process.stdout.write('READY\n');
  while (!existsSync(go)) await new Promise((r) => setTimeout(r, 2));
  for (let i = 0; i < n; i++) {
    await store.transaction((tx) => appendAudit(tx, { actor: tag, action: 'test.append', subject: `${tag}/${i}`, details: { i } }));
    await new Promise((r) => setTimeout(r, 1)); // a breath between commands, as separate CLI runs would have
  }
  await store.close();
  process.stdout.write('DONE\n');
} else if (mode === 'kill') {
  const tag = rest[0];
  await store.transaction(async (tx) => {
    const now = new Date().toISOString();
    await tx.insertInto('models').values({ name: tag, owner: 'o', description: null, created_at: now, created_by: 'k' }).execute();
    await tx.insertInto('versions').values({ model: tag, version: '1', root_digest: 'ab'.repeat(32), source: null, created_at: now, created_by: 'k', revoked_at: null, revoked_by: null, revoked_reason: null }).execute();
    for (let i = 0; i < 50; i++) {
      await tx.insertInto('version_files').values({ model: tag, version: '1', path: `f${i}`, sha256: 'cd'.repeat(32), size: i }).execute();
      await appendAudit(tx, { actor: 'k', action: 'test.kill', subject: `${tag}/${i}`, details: { i } });
      if (i === 25) process.stdout.write('MID\n');
    }
    await new Promise(() => { setInterval(() => undefined, 1000); }); // hang inside the transaction
  });
} else {
  throw new Error(`unknown mode ${mode}`);
}
