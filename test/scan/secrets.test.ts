// Secret detectors: provider formats, generic assignments, placeholders and prose that must stay clean,
// masking everywhere (findSecrets, findings, JSON and SARIF never hold a full secret).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { BufferSource } from '../../src/formats/source.ts';
import { scanSource } from '../../src/scan/walker.ts';
import { findSecrets, maskSecret, redactSecrets } from '../../src/scan/secrets/index.ts';
import { renderReport, toSarif } from '../../src/index.ts';
import { FIXTURES, scanOne } from '../helpers/scan.ts';

// Fake credentials are generated, not committed: deterministic, random-looking, well-formed.
function fake(alphabet: string, n: number, seed: number): string {
  let x = seed >>> 0 || 1;
  let s = '';
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    s += alphabet[x % alphabet.length];
  }
  return s;
}
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const B64 = `${ALNUM}+/`;

const HF = `hf_${fake(ALNUM, 34, 1)}`;
const OPENAI = `sk-proj-${fake(`${ALNUM}_-`, 120, 2)}`;
const OPENAI_LEGACY = `sk-${fake(ALNUM, 48, 3)}`;
const ANTHROPIC = `sk-ant-api03-${fake(`${ALNUM}_-`, 93, 4)}AA`;
const AWS_ID = `AKIA${fake(UPNUM, 16, 5)}`;
const AWS_SECRET = fake(B64, 40, 6);
const GITHUB = `ghp_${fake(ALNUM, 36, 7)}`;
const GITHUB_PAT = `github_pat_${fake(ALNUM, 22, 8)}_${fake(ALNUM, 59, 9)}`;
const SLACK = `xoxb-${fake('0123456789', 12, 10)}-${fake('0123456789', 13, 11)}-${fake(ALNUM, 24, 12)}`;
const AZURE_KEY = `${fake(B64, 86, 13)}==`;
const AZURE_SIG = `${fake(ALNUM, 40, 14)}%2B${fake(ALNUM, 3, 15)}%3D`;
const PEM_BODY = Array.from({ length: 8 }, (_, i) => fake(B64, 64, 20 + i)).join('\n');
const PEM = `-----BEGIN OPENSSH PRIVATE KEY-----\n${PEM_BODY}\n-----END OPENSSH PRIVATE KEY-----\n`;

function kinds(text: string, opts = {}): string[] {
  return findSecrets(text, opts).map((m) => m.kind);
}

test('provider credentials are recognised with their kind and high severity', () => {
  const cases: Array<[string, string]> = [
    [`login(token="${HF}")`, 'huggingface-token'],
    [`OPENAI_API_KEY=${OPENAI}`, 'openai-key'],
    [`client = OpenAI(api_key="${OPENAI_LEGACY}")`, 'openai-key'],
    [`ANTHROPIC_API_KEY="${ANTHROPIC}"`, 'anthropic-key'],
    [`git remote add origin https://${GITHUB}@github.com/o/r.git`, 'github-token'],
    [`GH_TOKEN: ${GITHUB_PAT}`, 'github-token'],
    [`slack_token = '${SLACK}'`, 'slack-token'],
    [`DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${AZURE_KEY};EndpointSuffix=core.windows.net`, 'azure-storage-key'],
    [`https://acct.blob.core.windows.net/c/b?sv=2022-11-02&ss=b&srt=o&sp=r&se=2030-01-01T00:00:00Z&sig=${AZURE_SIG}`, 'azure-sas'],
    [PEM, 'private-key'],
  ];
  for (const [text, kind] of cases) {
    const found = findSecrets(text);
    assert.equal(found.length, 1, `${kind}: ${JSON.stringify(found)}`);
    assert.equal(found[0].kind, kind);
    assert.equal(found[0].severity, 'high');
  }
});

test('an AWS access key id is high with its secret key nearby (both reported), medium alone', () => {
  const paired = findSecrets(`[default]\naws_access_key_id = ${AWS_ID}\naws_secret_access_key = ${AWS_SECRET}\n`);
  assert.deepEqual(paired.map((m) => [m.kind, m.severity]), [['aws-access-key-id', 'high'], ['aws-secret-key', 'high']]);
  const alone = findSecrets(`bucket owner ${AWS_ID}`);
  assert.deepEqual(alone.map((m) => [m.kind, m.severity]), [['aws-access-key-id', 'medium']]);
  assert.deepEqual(findSecrets('aws_access_key_id = AKIAIOSFODNN7EXAMPLE'), [], "AWS's documentation example");
});

test('a GCP service-account JSON is one finding on its private key, also with escaped newlines', () => {
  const sa = JSON.stringify({ type: 'service_account', project_id: 'p', private_key_id: fake('0123456789abcdef', 40, 30), private_key: PEM, client_email: 'svc@p.iam.gserviceaccount.com' }, null, 2);
  const found = findSecrets(sa);
  assert.deepEqual(found.map((m) => m.kind), ['gcp-service-account']);
  assert.equal(found[0].severity, 'high');
  // The same key outside a service account is a PEM private key, found inside the JSON string too.
  assert.deepEqual(kinds(JSON.stringify({ key: PEM })), ['private-key']);
});

test('matches are masked: first 4 and last 2 characters, the length, never the value', () => {
  const [m] = findSecrets(`token = "${HF}"`);
  assert.equal(m.masked, `${HF.slice(0, 4)}…${HF.slice(-2)}`);
  assert.equal(m.length, HF.length);
  assert.equal(m.line, 1);
  assert.ok(!JSON.stringify(m).includes(HF.slice(4, -2)));
  assert.equal(maskSecret('abcdefghij'), 'ab…j', 'short values show less');
  assert.equal(maskSecret('abc'), '…');
  const [pem] = findSecrets(PEM);
  assert.ok(!JSON.stringify(pem).includes(PEM_BODY.slice(4, 40)));
  assert.equal(redactSecrets(`x = "${HF}"; y = 1`), `x = "${HF.slice(0, 4)}…${HF.slice(-2)}"; y = 1`);
});

test('generic credential assignments are medium; placeholders, references and identifiers are not', () => {
  const value = fake(ALNUM, 32, 40);
  for (const text of [`api_key = "${value}"`, `"client_secret": "${value}"`, `password: ${fake(`${ALNUM}!#%&`, 16, 41)}`, `export WANDB_API_KEY=${fake('0123456789abcdef', 40, 42)}`, `db_password => '${value}'`]) {
    const found = findSecrets(text);
    assert.deepEqual(found.map((m) => [m.kind, m.severity]), [['generic-secret', 'medium']], text);
  }
  for (const text of [
    'api_key = "xxxxxxxxxxxxxxxxxxxxxxxx"',
    'token: "<your-token>"',
    'api_key: ${OPENAI_API_KEY}',
    'password: changeme',
    'password = "your_password_here"',
    'secret_key = os.environ["SECRET_KEY"]',
    'token = "{{ hf_token }}"',
    'HF_TOKEN=hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
    'api_key = "sk-..."',
    'OPENAI_API_KEY=sk-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
    'secret = "my-module.MyClass"',
    'token_file: ./secrets/token.txt',
    'password == "hunter2hunter2X9"',
    'tokenizer_class: "BertTokenizerFast123"',
    '"pad_token": "<|endoftext|>"',
    '"bos_token": "[BOS]"',
  ]) {
    assert.deepEqual(findSecrets(text), [], text);
  }
});

test('in code, unquoted values are expressions, not secrets', () => {
  assert.deepEqual(findSecrets('token = tokenizer.encode_plus(text, max_length=512)', { bareValues: false }), []);
  assert.deepEqual(findSecrets(`password = get_password(${'x'.repeat(20)}1)`, { bareValues: false }), []);
  assert.equal(findSecrets(`password = "${fake(ALNUM, 20, 43)}"`, { bareValues: false }).length, 1);
});

test('escaped quotes (code inside notebook JSON) still delimit a value', () => {
  const nb = JSON.stringify({ cells: [{ cell_type: 'code', source: [`api_key = "${fake(ALNUM, 30, 44)}"\n`] }] });
  assert.deepEqual(kinds(nb), ['generic-secret']);
});

test('prose about token formats stays clean (corpus text/README.txt)', () => {
  const text = readFileSync(`${FIXTURES}/corpus/text/README.txt`, 'utf8');
  assert.deepEqual(findSecrets(text), []);
  assert.deepEqual(findSecrets('A PEM file starts with -----BEGIN PRIVATE KEY----- and ends with -----END PRIVATE KEY-----.'), []);
  assert.deepEqual(findSecrets('Tokens look like hf_ followed by 34 letters; GitHub tokens start with ghp_ or github_pat_.'), []);
});

test('a real HF model folder (configs, tokenizer, vocab, model card) has no secrets', async () => {
  const { report } = await scanOne(`${FIXTURES}/text/hf_bert`);
  assert.deepEqual(report.files.flatMap((f) => f.findings.filter((x) => x.ruleId.startsWith('MG-SEC'))), []);
});

test('findings point at the byte offset and line of the secret; files without an extension are read', async () => {
  const text = `# é config\nhf = "${HF}"\n`;
  const rows = await scanSource(new BufferSource(Buffer.from(text)), 'id_ed25519', { hash: false });
  const f = rows[0].findings.find((x) => x.ruleId === 'MG-SEC-001');
  assert.ok(f, JSON.stringify(rows));
  assert.equal(f.offset, Buffer.byteLength(text.slice(0, text.indexOf('hf_'))));
  assert.equal(f.evidence.line, 2);
  assert.equal(f.severity, 'high');
});

test('the corpus secrets folder: every credential found, none printed in full in JSON, SARIF or text', async () => {
  const dir = `${FIXTURES}/corpus/secrets_folder`;
  const { report, code } = await scanOne(dir);
  assert.equal(code, 1);
  const byFile = Object.fromEntries(report.files.map((f) => [f.path.split('/').pop(), f.findings.map((x) => x.evidence.kind)]));
  assert.deepEqual(byFile['aws.json'], ['aws-access-key-id', 'aws-secret-key', 'openai-key']);
  assert.deepEqual(byFile['id_rsa'], ['private-key']);
  assert.deepEqual(byFile['upload.ipynb'], ['huggingface-token']);
  // Every secret in the folder: any 8 consecutive characters of it must not appear in any output.
  const secrets: string[] = [];
  for (const name of readdirSync(dir)) {
    const text = readFileSync(`${dir}/${name}`, 'utf8');
    for (const m of findSecrets(text)) {
      const raw = text.slice(m.index, m.index + m.length).replace(/\s+/g, '');
      secrets.push(raw);
    }
  }
  assert.equal(secrets.length, 5);
  const outputs = [renderReport(report, 'json'), JSON.stringify(toSarif(report)), renderReport(report, 'text')];
  for (const out of outputs) {
    for (const s of secrets) {
      // From the 9th character on: fixed prefixes ("sk-proj-") are named in the rule catalogue itself.
      for (let i = 8; i + 8 <= s.length; i += 4) assert.ok(!out.includes(s.slice(i, i + 8)), `a piece of a secret (${s.slice(0, 4)}…) leaked`);
    }
  }
});

test('large text is scanned in linear time', () => {
  const vocab: Record<string, number> = {};
  for (let i = 0; i < 200_000; i++) vocab[`tok${i}_key`] = i;
  const text = JSON.stringify({ model: { vocab }, added_tokens: [{ content: '<pad>', special: true }] });
  const t0 = Date.now();
  assert.deepEqual(findSecrets(text), []);
  const skewed = `${'a'.repeat(2_000_000)}key=${'b'.repeat(2_000_000)}`;
  assert.deepEqual(findSecrets(skewed), []);
  assert.ok(Date.now() - t0 < 3000, `${Date.now() - t0} ms`);
});
