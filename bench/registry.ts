// Registry benchmark: `where` and `gate` latency on a large store (SQLite and PostgreSQL).
//
//   node --import tsx bench/registry.ts                      # 100,000 versions, 1,000,000 audit rows
//   node --import tsx bench/registry.ts --versions 2000 --audit 20000 --queries 50   # smoke run
//   options: --versions N  --models N  --audit N  --queries N  --stores sqlite,postgres  --keep
//
// Generation: one real intake of test/fixtures/corpus/hf_model_bert gives realistic scan, license,
// card and SBOM predicates; every generated version gets its own evidence made from them with
// makeEvidence (bound to its own root digest), 3 files, an intake record; every 10th version has two
// approvals; each model has deployment history in dev/staging/production and 3 aliases. The audit
// log is written in bulk inside large transactions with the registry's own auditHash, so verifyAudit
// passes (and is timed). Figures: markdown table on stdout, progress on stderr.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { openStore, type Store } from '../src/registry/store/index.ts';
import { auditHash, GENESIS_HASH, verifyAudit } from '../src/registry/audit/index.ts';
import { makeEvidence } from '../src/registry/evidence/index.ts';
import { intake, where, gate, gateFactsFromEvidence, getVersionInfo, addIdentity } from '../src/registry/domain/index.ts';
import { evaluateGate, loadPolicy } from '../src/policy/index.ts';
import { startPostgres, type TestPostgres } from '../test/helpers/postgres.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
function opt(name: string, def: string): string {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return def;
  return argv[i].includes('=') ? argv[i].split('=')[1] : argv[i + 1];
}
const VERSIONS = Number(opt('versions', '100000'));
const MODELS = Math.min(VERSIONS, Number(opt('models', String(Math.max(1, Math.round(VERSIONS / 100))))));
const AUDIT = Number(opt('audit', '1000000'));
const QUERIES = Number(opt('queries', '200'));
const STORES = opt('stores', 'sqlite,postgres').split(',');
const KEEP = argv.includes('--keep');
const ENVS = ['dev', 'staging', 'production'];
const NOW = '2026-11-29T12:00:00.000Z';
const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const perModel = Math.ceil(VERSIONS / MODELS);
const modelName = (m: number) => `org${String(m % 50).padStart(2, '0')}/model-${String(m).padStart(4, '0')}`;
const digestOf = (m: number, v: number) => sha(`root:${m}:${v}`);
const fileSha = (m: number, v: number, f: number) => sha(`file:${m}:${v}:${f}`);
const isoAt = (msBeforeNow: number) => new Date(Date.parse(NOW) - msBeforeNow).toISOString();
const DAY = 86_400_000;

// deterministic PRNG so both stores get the same data and queries
let seed = 42;
const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff; };

interface Templates { scan: object; license: object; card: object; sbom: object }

async function templates(dir: string): Promise<Templates> {
  const s = await openStore(join(dir, 'template.db'));
  try {
    const r = await intake(s, join(ROOT, 'test/fixtures/corpus/hf_model_bert'), { name: 'tpl', owner: 'team', use: 'internal support chatbot', sensitivity: 'internal', tier: 'medium', submitter: 'alice' });
    const out: Record<string, object> = {};
    for (const e of r.evidence) {
      const row = await s.db.selectFrom('evidence').select('envelope').where('id', '=', e.id).executeTakeFirstOrThrow();
      out[e.kind] = (JSON.parse(Buffer.from((JSON.parse(row.envelope) as { payload: string }).payload, 'base64').toString('utf8')) as { predicate: object }).predicate;
    }
    return out as unknown as Templates;
  } finally { await s.close(); }
}

type Rows = Record<string, object[]>;

/** Rows of models [m0, m1). */
function modelBatch(m0: number, m1: number, t: Templates): Rows {
  const rows: Rows = { models: [], versions: [], version_files: [], intakes: [], evidence: [], approvals: [], deployments: [], aliases: [] };
  for (let m = m0; m < m1; m++) {
    const name = modelName(m);
    const n = Math.min(perModel, VERSIONS - m * perModel);
    if (n <= 0) continue;
    rows.models.push({ name, owner: `team-${m % 40}`, description: null, created_at: isoAt(400 * DAY), created_by: 'alice' });
    const approved: number[] = [];
    for (let v = 1; v <= n; v++) {
      const version = String(v);
      const d = digestOf(m, v);
      const created = isoAt((n - v + 1) * 3 * 3600_000 + DAY); // within the policy's evidence age for recent versions
      rows.versions.push({ model: name, version, root_digest: d, source: `hf://org/model-${m}@${sha(`c${m}${v}`).slice(0, 40)}`, created_at: created, created_by: 'alice', revoked_at: null, revoked_by: null, revoked_reason: null });
      const files = ['config.json', 'model.safetensors', 'tokenizer.json'];
      files.forEach((p, f) => rows.version_files.push({ model: name, version, path: p, sha256: fileSha(m, v, f), size: f === 1 ? 400_000_000 + v : 2_000 + f }));
      rows.intakes.push({ model: name, version, owner: `team-${m % 40}`, intended_use: 'internal support chatbot', sensitivity: 'internal', tier: v % 3 === 0 ? 'high' : 'medium', publisher: 'org', target_env: 'production', submitter: 'alice', created_at: created });
      for (const kind of ['scan', 'license', 'card', 'sbom'] as const) {
        const ev = makeEvidence(kind, d, t[kind], { name, created });
        rows.evidence.push({ id: ev.id, root_digest: d, kind, predicate_type: ev.statement.predicateType, envelope: JSON.stringify(ev.envelope), created_at: created, created_by: 'alice' });
      }
      if (v % 10 === 0 || v === n) {
        approved.push(v);
        for (const [by, role] of [['bob', 'security'], ['carol', 'ml-lead']]) {
          const at = isoAt(10 * DAY - v * 60_000);
          rows.approvals.push({ id: sha(`appr:${m}:${v}:${by}`), model: name, version, root_digest: d, approved_by: by, role, note: null, created_at: at, expires_at: new Date(Date.parse(at) + 90 * DAY).toISOString(), revoked_at: null });
        }
      }
    }
    // deployment history: every approved version went dev → staging → production; the aliases point
    // at the latest approved (production), the one before (staging would be newer in real life: keep simple).
    ENVS.forEach((env, e) => {
      let prev: string | null = null;
      const list = approved.slice(-(e === 0 ? 10 : e === 1 ? 6 : 4));
      list.forEach((v, i) => {
        const at = isoAt(9 * DAY - (v * 60_000) - e * 3600_000);
        rows.deployments.push({ id: sha(`dep:${m}:${env}:${v}:${i}`).slice(0, 24), env, model: name, version: String(v), root_digest: digestOf(m, v), action: 'deploy', deployed_by: 'ops', at, previous_version: prev, reason: null });
        prev = String(v);
      });
      const last = list[list.length - 1];
      if (last !== undefined) rows.aliases.push({ env, model: name, version: String(last), root_digest: digestOf(m, last), updated_at: isoAt(9 * DAY - last * 60_000 - e * 3600_000), updated_by: 'ops' });
    });
  }
  return rows;
}

const ACTIONS = ['intake', 'approve', 'gate', 'deploy', 'evidence.add', 'gate', 'gate'];
function auditBatch(seq0: number, n: number, prev: string): { rows: object[]; last: string } {
  const rows: Array<{ seq: number; at: string; actor: string; action: string; subject: string; details: string; prev_hash: string; hash: string }> = [];
  for (let i = 0; i < n; i++) {
    const seq = seq0 + i;
    const m = seq % MODELS;
    const v = 1 + (Math.floor(seq / MODELS) % perModel);
    const action = ACTIONS[seq % ACTIONS.length];
    const details = action === 'intake' ? `{"files":3,"rootDigest":"${digestOf(m, v)}","tier":"medium"}`
      : action === 'gate' ? `{"allowed":${seq % 2 === 0},"env":"${ENVS[seq % 3]}","evidence":"${sha(`g${seq}`)}","failed":[]}`
      : `{"env":"${ENVS[seq % 3]}","note":null}`;
    const r = { seq, at: isoAt((AUDIT - seq + 1) * 20_000 + 10 * DAY), actor: ['alice', 'bob', 'carol', 'ops'][seq % 4], action, subject: `${modelName(m)}@${v}`, details, prev_hash: prev, hash: '' };
    r.hash = auditHash(r);
    prev = r.hash;
    rows.push(r);
  }
  return { rows, last: prev };
}

async function insertAll(s: Store, table: string, rows: object[], chunk = 400): Promise<void> {
  for (let i = 0; i < rows.length; i += chunk) {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    await (s.db as any).insertInto(table).values(rows.slice(i, i + chunk)).execute();
  }
}

async function generate(stores: Store[], t: Templates): Promise<Record<string, number>> {
  const times: Record<string, number> = {};
  for (const s of stores) {
    await addIdentity(s, 'bob', ['security'], { by: 'admin', now: isoAt(500 * DAY) });
    await addIdentity(s, 'carol', ['ml-lead'], { by: 'admin', now: isoAt(500 * DAY) });
    await addIdentity(s, 'ops', ['operator'], { by: 'admin', now: isoAt(500 * DAY) });
    for (const env of ENVS) await s.db.insertInto('environments').values({ name: env, description: null, created_at: isoAt(500 * DAY) }).execute();
    times[s.kind] = 0;
  }
  // the identities wrote audit rows 1..3: continue that chain
  const head = await stores[0].db.selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
  for (const s of stores.slice(1)) {
    const h = await s.db.selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
    if (Number(h.seq) !== Number(head.seq)) throw new Error('stores disagree on the audit head');
    // identity rows carry "now" timestamps per store: rewrite the chain start identically is not
    // needed; each store continues its own head.
  }
  const heads = new Map<Store, { seq: number; hash: string }>();
  for (const s of stores) {
    const h = await s.db.selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
    heads.set(s, { seq: Number(h.seq), hash: h.hash });
  }
  let genMs = 0;
  const MB = 20; // models per transaction (~2,000 versions)
  for (let m0 = 0; m0 < MODELS; m0 += MB) {
    const g0 = performance.now();
    const rows = modelBatch(m0, Math.min(MODELS, m0 + MB), t);
    genMs += performance.now() - g0;
    for (const s of stores) {
      const t0 = performance.now();
      await s.transaction(async (tx) => {
        const ts = { ...s, db: tx } as Store;
        for (const table of ['models', 'versions', 'version_files', 'intakes', 'evidence', 'approvals', 'deployments', 'aliases']) await insertAll(ts, table, rows[table]);
      });
      times[s.kind] += performance.now() - t0;
    }
    if ((m0 / MB) % 10 === 0) log(`models ${Math.min(MODELS, m0 + MB)}/${MODELS}`);
  }
  const AB = 50_000;
  for (const s of stores) {
    const h = heads.get(s)!;
    let prev = h.hash;
    const start = h.seq + 1;
    const total = AUDIT - h.seq;
    const t0 = performance.now();
    for (let done = 0; done < total; done += AB) {
      const g0 = performance.now();
      const b = auditBatch(start + done, Math.min(AB, total - done), prev);
      genMs += performance.now() - g0;
      prev = b.last;
      await s.transaction(async (tx) => { await insertAll({ ...s, db: tx } as Store, 'audit_log', b.rows, 1000); });
      if ((done / AB) % 4 === 0) log(`${s.kind} audit ${done + AB}/${total}`);
    }
    times[s.kind] += performance.now() - t0;
    await sql`analyze`.execute(s.db);
  }
  times.js = genMs;
  return times;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function measure(name: string, n: number, fn: (i: number) => Promise<unknown>): Promise<{ name: string; p50: number; p95: number; max: number }> {
  for (let i = 0; i < Math.min(20, n); i++) await fn(i + 100_000); // warm-up
  const xs: number[] = [];
  for (let i = 0; i < n; i++) { const t0 = performance.now(); await fn(i); xs.push(performance.now() - t0); }
  return { name, p50: pct(xs, 50), p95: pct(xs, 95), max: Math.max(...xs) };
}

async function bench(s: Store): Promise<Array<{ name: string; p50: number; p95: number; max: number }>> {
  const policy = loadPolicy(join(ROOT, 'modelgate.policy.yaml'));
  // query targets: deployed versions (where finds something) and random versions (gate)
  const aliases = await s.db.selectFrom('aliases').select(['model', 'version', 'root_digest']).orderBy('model').orderBy('env').execute();
  const pickAlias = (i: number) => aliases[(i * 7919) % aliases.length];
  const pickVersion = (i: number) => { const m = (i * 7919) % MODELS; const v = 1 + ((i * 104729) % Math.min(perModel, VERSIONS - m * perModel)); return { name: modelName(m), version: String(v), m, v }; };
  const out = [];
  let gates = 0;
  let allowed = 0;
  out.push(await measure('where(root digest)', QUERIES, async (i) => { const r = await where(s, pickAlias(i).root_digest, { now: NOW }); if (i < QUERIES && r.length === 0) throw new Error('where(digest) found nothing'); }));
  const fileShas = new Map<number, string>();
  for (let i = 0; i < QUERIES; i++) for (const k of [i, i + 100_000]) {
    const a = pickAlias(k);
    const f = await s.db.selectFrom('version_files').select('sha256').where('model', '=', a.model).where('version', '=', a.version).where('path', '=', 'model.safetensors').executeTakeFirstOrThrow();
    fileShas.set(k, f.sha256);
  }
  out.push(await measure('where(file sha256)', QUERIES, async (i) => { const r = await where(s, fileShas.get(i)!, { now: NOW }); if (r.length === 0) throw new Error('where(file) found nothing'); }));
  out.push(await measure('where(NAME@VER)', QUERIES, async (i) => { const a = pickAlias(i); const r = await where(s, `${a.model}@${a.version}`, { now: NOW }); if (r.length === 0) throw new Error('where(ref) found nothing'); }));
  out.push(await measure('where(NAME)', QUERIES, async (i) => { const a = pickAlias(i); await where(s, a.model, { now: NOW }); }));
  out.push(await measure('gate facts + evaluate (read-only)', QUERIES, async (i) => {
    const p = pickVersion(i);
    const env = ENVS[i % 3];
    const v = await getVersionInfo(s, `${p.name}@${p.version}`);
    const facts = await gateFactsFromEvidence(s, { name: p.name, version: p.version }, NOW, env);
    evaluateGate(policy, facts, { tier: v.tier, env, now: NOW });
  }));
  out.push(await measure('gate(NAME@VER, env) (records evidence + audit)', QUERIES, async (i) => {
    const p = pickVersion(i);
    const r = await gate(s, `${p.name}@${p.version}`, ENVS[i % 3], { policy, now: NOW, by: 'bench' });
    if (i < QUERIES) { gates++; if (r.decision.allowed) allowed++; }
  }));
  log(`${s.kind}: ${allowed}/${gates} measured gate decisions allowed`);
  return out;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mg-regbench-'));
  log(`versions=${VERSIONS} models=${MODELS} audit=${AUDIT} queries=${QUERIES} dir=${dir}`);
  let pgServer: TestPostgres | undefined;
  const stores: Store[] = [];
  try {
    const t = await templates(dir);
    if (STORES.includes('sqlite')) stores.push(await openStore(join(dir, 'registry.db')));
    if (STORES.includes('postgres')) {
      pgServer = await startPostgres();
      stores.push(await openStore(await pgServer.createDatabase('bench'), { poolSize: 4 }));
    }
    const g0 = performance.now();
    const times = await generate(stores, t);
    log(`generated in ${((performance.now() - g0) / 1000).toFixed(1)} s (${JSON.stringify(Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Math.round(v / 1000)])))} s)`);
    const results: string[] = [];
    const extra: string[] = [];
    for (const s of stores) {
      const v0 = performance.now();
      const ver = await verifyAudit(s);
      const verifyS = (performance.now() - v0) / 1000;
      if (!ver.ok || ver.rows !== AUDIT) throw new Error(`${s.kind}: verifyAudit ${JSON.stringify(ver)}`);
      const counts: Record<string, number> = {};
      for (const tbl of ['versions', 'version_files', 'evidence', 'approvals', 'deployments', 'aliases', 'audit_log'] as const) {
        const r = await s.db.selectFrom(tbl).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
        counts[tbl] = Number(r.n);
      }
      const size = s.kind === 'sqlite' ? `${(statSync(s.location).size / 2 ** 20).toFixed(0)} MiB` : '';
      extra.push(`- ${s.kind}: generated in ${(times[s.kind] / 1000).toFixed(1)} s (inserts) · verifyAudit of ${ver.rows.toLocaleString('en')} rows: ${verifyS.toFixed(1)} s, ok · rows: ${Object.entries(counts).map(([k, v]) => `${k} ${v.toLocaleString('en')}`).join(', ')}${size ? ` · file ${size}` : ''}`);
      log(`${s.kind}: verifyAudit ${verifyS.toFixed(1)} s; measuring`);
      for (const r of await bench(s)) results.push(`| ${s.kind} | ${r.name} | ${r.p50.toFixed(2)} | ${r.p95.toFixed(2)} | ${r.max.toFixed(2)} |`);
    }
    console.log(`Registry benchmark: ${VERSIONS.toLocaleString('en')} versions in ${MODELS.toLocaleString('en')} models, ${AUDIT.toLocaleString('en')} audit rows, ${QUERIES} queries per row (after 20 warm-up), latency in ms\n`);
    console.log('| store | query | p50 ms | p95 ms | max ms |\n|---|---|---:|---:|---:|');
    for (const r of results) console.log(r);
    console.log('');
    for (const e of extra) console.log(e);
    console.log(`- JS-side generation (evidence envelopes, audit hashes): ${(times.js / 1000).toFixed(1)} s`);
  } finally {
    for (const s of stores) await s.close().catch(() => undefined);
    await pgServer?.stop().catch(() => undefined);
    if (!KEEP) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
