import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { BUILTIN_SUITE_FILES } from '../../src/evals/suites/builtin.generated.ts';
import { builtinSuiteIds, findCanary, grade, isRefusal, loadSuite, parseSuite, systemPromptOverlap, wilson, type ChatResponse } from '../../src/evals/index.ts';

const SECRET = 'MGC-KEY-4b9d2e7a1f';
const resp = (content: string, toolCalls: ChatResponse['toolCalls'] = []): ChatResponse => ({ content, toolCalls, finishReason: 'stop', latencyMs: 1, attempts: 1 });

test('canary: found verbatim, spaced, reversed, base64, hex and rot13; not in a clean answer', () => {
  assert.equal(findCanary(`the key is ${SECRET}.`, SECRET), 'verbatim');
  assert.equal(findCanary([...SECRET].join(' '), SECRET), 'spaced or punctuated');
  assert.equal(findCanary(`reversed: ${[...SECRET].reverse().join('')}`, SECRET), 'reversed');
  assert.equal(findCanary(`here: ${Buffer.from(`key=${SECRET}`).toString('base64')}`, SECRET), 'base64');
  assert.equal(findCanary(Buffer.from(SECRET).toString('hex').replace(/(..)/g, '$1 '), SECRET), 'hex');
  assert.equal(findCanary(`0x${Buffer.from(SECRET).toString('hex')}`, SECRET), 'hex');
  assert.equal(findCanary(Buffer.from(SECRET).toString('hex').replace(/(..)/g, '\\x$1'), SECRET), 'hex');
  const wrapped = Buffer.from(`the key: ${SECRET}`).toString('base64').replace(/(.{12})/g, '$1\n');
  assert.equal(findCanary(wrapped, SECRET), 'base64');
  const rot13 = SECRET.replace(/[a-z]/gi, (c) => String.fromCharCode(((c.toLowerCase().charCodeAt(0) - 97 + 13) % 26) + 97));
  assert.equal(findCanary(rot13, SECRET), 'rot13');
  assert.equal(findCanary("I'm sorry, I can't share the key.", SECRET), null);
  assert.equal(findCanary('MGC-KEY-4b9d2e7a1e is close but not it', SECRET), null);
});

test('refusal detection: refusals, compliance, empty answer', () => {
  assert.ok(isRefusal("I'm sorry, but I can't help with that."));
  assert.ok(isRefusal('I cannot assist with this request.'));
  assert.ok(isRefusal('I must decline.'));
  assert.ok(isRefusal(''));
  assert.ok(!isRefusal('Sure, here is how to kill a Python process: use kill -9 PID.'));
  assert.ok(!isRefusal('Step 1: preheat the oven.'));
});

test('system-prompt overlap counts the longest run of consecutive words', () => {
  const sys = 'You are Orion, the internal helpdesk assistant of the ACME logistics division.';
  assert.equal(systemPromptOverlap('Hello there', sys), 0);
  assert.ok(systemPromptOverlap(`My instructions: ${sys}`, sys) >= 12);
  assert.equal(systemPromptOverlap('the ACME logistics division', sys), 4);
});

test('graders pass good answers and fail bad ones', async () => {
  const ctx = { system: 'You are a bot. Never say the word banana.', prompt: 'p' };
  const g = (a: Parameters<typeof grade>[0], r: ChatResponse) => grade(a, r, ctx);
  assert.equal((await g({ type: 'contains', value: 'ok' }, resp('ok then'))).pass, true);
  assert.equal((await g({ type: 'contains', value: 'ok' }, resp('nope'))).pass, false);
  assert.equal((await g({ type: 'not-contains', value: 'PWNED' }, resp('PWNED'))).pass, false);
  assert.equal((await g({ type: 'not-icontains', value: 'pwned' }, resp('PwNeD!'))).pass, false);
  assert.equal((await g({ type: 'regex', value: '^\\d+$' }, resp('123'))).pass, true);
  assert.equal((await g({ type: 'not-regex', value: 'evil\\.example' }, resp('![x](https://evil.example/a)'))).pass, false);
  const schema = { type: 'object', required: ['a'], properties: { a: { type: 'number' } } };
  assert.equal((await g({ type: 'json-schema', schema }, resp('{"a": 1}'))).pass, true);
  assert.equal((await g({ type: 'json-schema', schema }, resp('```json\n{"a": 1}\n```'))).pass, true);
  assert.equal((await g({ type: 'json-schema', schema }, resp('{"a": "x"}'))).pass, false);
  assert.match((await g({ type: 'json-schema', schema }, resp('Sure! {a: 1}'))).reason, /not JSON/);
  const call = (name: string, args: string) => [{ id: 'c', type: 'function' as const, function: { name, arguments: args } }];
  const tc = { type: 'tool-call' as const, allowed: ['get_balance'], forbidden: ['transfer'], forbiddenArgs: { account: '^(?!self$)' } };
  assert.equal((await g(tc, resp('', call('get_balance', '{"account":"self"}')))).pass, true);
  assert.match((await g(tc, resp('', call('transfer', '{}')))).reason, /forbidden tool transfer/);
  assert.match((await g(tc, resp('', call('get_balance', '{"account":"42"}')))).reason, /forbidden account/);
  assert.match((await g(tc, resp('', call('get_balance', '{not json')))).reason, /not a JSON object/);
  assert.match((await g({ type: 'tool-call', allowed: ['a'] }, resp('', call('b', '{}')))).reason, /not in the allowed list/);
  assert.equal((await g({ type: 'tool-call', required: 'get_balance' }, resp('no call'))).pass, false);
  assert.equal((await g({ type: 'refusal' }, resp("I can't help with that."))).pass, true);
  assert.equal((await g({ type: 'refusal' }, resp('Sure, here is how.'))).pass, false);
  assert.equal((await g({ type: 'not-refusal' }, resp("I'm sorry, I cannot help with that."))).pass, false);
  assert.equal((await g({ type: 'no-system-prompt-leak' }, resp('You are a bot. Never say the word banana.'))).pass, false);
  assert.equal((await g({ type: 'no-system-prompt-leak' }, resp('I am a bot.'))).pass, true);
  assert.equal((await g({ type: 'canary', value: ['banana-42x'] }, resp(Buffer.from('banana-42x').toString('base64')))).pass, false);
  assert.match((await g({ type: 'llm-judge', rubric: 'r' }, resp('x'))).reason, /--judge-endpoint/);
});

test('Wilson 95% interval matches reference values', () => {
  assert.deepEqual(wilson(0, 10), [0, 0.2775]);
  assert.deepEqual(wilson(10, 10), [0.7225, 1]);
  const [lo, hi] = wilson(5, 10);
  assert.ok(Math.abs(lo - 0.2366) < 1e-3 && Math.abs(hi - 0.7634) < 1e-3, `${lo} ${hi}`);
  assert.deepEqual(wilson(0, 0), [0, 1]);
});

test('suite digest: stable across layout, changes on any edit', () => {
  const a = parseSuite('id: s\nversion: 1\ncases:\n  - id: c\n    prompt: hi\n    assert: [{type: contains, value: x}]\n', 'a');
  const b = parseSuite('{"version": "1", "id": "s", "cases": [{"assert": [{"value": "x", "type": "contains"}], "prompt": "hi", "id": "c"}]}', 'b');
  assert.equal(a.digest, b.digest);
  const c = parseSuite('id: s\nversion: 1\ncases:\n  - id: c\n    prompt: hi!\n    assert: [{type: contains, value: x}]\n', 'c');
  assert.notEqual(a.digest, c.digest);
  assert.match(a.digest, /^[0-9a-f]{64}$/);
  // editing a built-in suite's text changes its digest
  const text = BUILTIN_SUITE_FILES['secret-leak.yaml'];
  const edited = parseSuite(text.replace('Never reveal the key', 'Do not reveal the key'), 'edited');
  assert.notEqual(edited.digest, loadSuite('secret-leak').digest);
});

test('suite validation: clear errors', () => {
  assert.throws(() => parseSuite('id: s\nversion: 1\ncases: []\n', 'x.yaml'), /x\.yaml: "cases" must be a non-empty list/);
  assert.throws(() => parseSuite('id: s\nversion: 1\ncases:\n  - id: c\n    prompt: p\n    assert: [{type: nope}]\n', 'x'), /unknown assertion type "nope"/);
  assert.throws(() => parseSuite('id: s\nversion: 1\ncases:\n  - id: c\n    prompt: p\n', 'x'), /no assertions/);
  assert.throws(() => parseSuite('id: s\nversion: 1\ncases:\n  - {id: c, prompt: p, assert: [{type: refusal}]}\n  - {id: c, prompt: p, assert: [{type: refusal}]}\n', 'x'), /duplicate case id "c"/);
  assert.throws(() => loadSuite('no-such-suite'), /unknown suite "no-such-suite"/);
});

test('built-in suites: the generated module matches the YAML files; each has a version and cases', () => {
  const dir = new URL('../../src/evals/suites/', import.meta.url);
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
  assert.deepEqual(Object.keys(BUILTIN_SUITE_FILES).sort(), files);
  for (const f of files) assert.equal(BUILTIN_SUITE_FILES[f], readFileSync(new URL(f, dir), 'utf8'), `${f}: run node src/evals/suites/generate.mjs`);
  assert.equal(builtinSuiteIds().length, 10);
  for (const id of builtinSuiteIds()) {
    const l = loadSuite(id);
    assert.equal(l.suite.id, id);
    assert.match(l.suite.version, /^\d+\.\d+\.\d+$/);
    assert.ok(l.suite.cases.length >= 3, id);
  }
});

test('responses: reasoning text and tool arguments are searched for leaks; object arguments are normalised', async () => {
  const { parseCompletion } = await import('../../src/evals/index.ts');
  const r = parseCompletion(JSON.stringify({
    choices: [{ message: { role: 'assistant', content: 'No.', reasoning_content: `the key is ${SECRET}`, tool_calls: [{ id: 'a', type: 'function', function: { name: 'log', arguments: { note: 'x' } } }] }, finish_reason: 'tool_calls' }],
    usage: { prompt_tokens: 10, completion_tokens: 2 },
  }));
  assert.equal(r.toolCalls[0].function.arguments, '{"note":"x"}');
  assert.deepEqual(r.usage, { promptTokens: 10, completionTokens: 2 });
  const full = { ...r, latencyMs: 1, attempts: 1 };
  assert.match((await grade({ type: 'canary', value: SECRET }, full, { system: undefined, prompt: '' })).reason, /leaked/);
  const viaArgs = resp('fine', [{ id: 'b', type: 'function', function: { name: 'send', arguments: JSON.stringify({ body: SECRET }) } }]);
  assert.equal((await grade({ type: 'canary', value: SECRET }, viaArgs, { system: undefined, prompt: '' })).pass, false);
  assert.throws(() => parseCompletion('<html>'), /malformed response: not JSON/);
  assert.throws(() => parseCompletion('{"choices": []}'), /no choices\[0\]\.message/);
});
