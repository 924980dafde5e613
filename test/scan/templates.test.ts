// The chat-template checker: every real template of the corpus stays clean — as a .jinja file, inside a
// tokenizer_config.json (string and list form) and inside a GGUF — and template injection is flagged
// however it is spelled (attribute chains, keys built from pieces, filters, escapes, statements the subset
// parser rejects). The checker never renders.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { BufferSource } from '../../src/formats/source.ts';
import { severityRank, type FileReport, type Severity } from '../../src/scan/model.ts';
import { checkTemplate, MAX_TEMPLATE_CHARS } from '../../src/scan/templates.ts';
import { scanSource } from '../../src/scan/walker.ts';
import { gguf, modelKvs } from '../helpers/gguf-bytes.ts';

const DIR = new URL('../fixtures/corpus/chat-templates/', import.meta.url);
const REAL = readdirSync(DIR).filter((n) => n.endsWith('.jinja')).sort().map((n) => [n, readFileSync(new URL(n, DIR), 'utf8')] as const);
const enc = new TextEncoder();

async function scanBytes(bytes: Uint8Array | string, name: string): Promise<FileReport[]> {
  return scanSource(new BufferSource(typeof bytes === 'string' ? enc.encode(bytes) : bytes), name, { hash: false });
}
const findings = (rows: FileReport[]) => rows.flatMap((r) => r.findings);
const above = (rows: FileReport[], floor: Severity) => findings(rows).filter((f) => severityRank(f.severity) > severityRank(floor)).map((f) => `${f.severity} ${f.ruleId} ${f.path}: ${f.message}`);
const worst = (t: string) => checkTemplate(t).issues[0]?.severity ?? null;

/** Constructs real templates use (Llama 3.1, Mistral, Gemma, Qwen, tool-calling styles), none of them an escape. */
const BENIGN: Record<string, string> = {
  'llama-3.1 style': `{{- bos_token }}
{%- if custom_tools is defined %}{%- set tools = custom_tools %}{%- endif %}
{%- if not date_string is defined %}{%- set date_string = strftime_now("%d %b %Y") %}{%- endif %}
{%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content']|trim %}{%- set messages = messages[1:] %}{%- else %}{%- set system_message = "" %}{%- endif %}
{{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}
{%- if builtin_tools is defined %}{{- "Tools: " + builtin_tools | reject('equalto', 'code_interpreter') | join(", ") + "\\n\\n" }}{%- endif %}
{{- "Today Date: " + date_string + "\\n\\n" }}
{%- for t in tools %}{{- t | tojson(indent=4) }}{{- "\\n\\n" }}{%- endfor %}
{%- for message in messages %}
  {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
    {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}
  {%- elif 'tool_calls' in message %}
    {%- if not message.tool_calls|length == 1 %}{{- raise_exception("This model only supports single tool-calls at once!") }}{%- endif %}
    {%- set tool_call = message.tool_calls[0].function %}
    {{- '{"name": "' + tool_call.name + '", "parameters": ' + tool_call.arguments | tojson + '}' }}
  {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}`,
  'mistral style': `{%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content'] %}{%- set loop_messages = messages[1:] %}{%- else %}{%- set loop_messages = messages %}{%- endif %}
{{- bos_token }}{%- for message in loop_messages %}
{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{%- endif %}
{%- if message['role'] == 'user' %}{%- if loop.first and system_message is defined %}{{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}{%- else %}{{- ' [INST] ' + message['content'] + ' [/INST]' }}{%- endif %}
{%- elif message['role'] == 'assistant' %}{{- ' ' + message['content'] + eos_token}}{%- else %}{{- raise_exception('Only user and assistant roles are supported!') }}{%- endif %}{%- endfor %}`,
  'macros, mappings, namespaces, filters': `{%- macro render_content(content) -%}{%- if content is string -%}{{ content }}{%- elif content is mapping -%}{{ content.get('text', '') }}{%- else -%}{%- for part in content if part.type == 'text' -%}{{ part.text }}{%- endfor -%}{%- endif -%}{%- endmacro -%}
{%- set ns = namespace(last_user=-1, has_system=false) -%}
{%- for m in messages -%}{%- if m.role == 'user' -%}{%- set ns.last_user = loop.index0 -%}{%- endif -%}{%- endfor -%}
{%- set names = tools | map(attribute='function') | map(attribute='name') | list -%}
{%- set system = messages | selectattr('role', 'equalto', 'system') | map(attribute='content') | join('\\n') -%}
{%- for key, value in (metadata or {}).items() -%}{{ key ~ ': ' ~ value | string }}{%- endfor -%}
{{- '<start_of_turn>' + ('model' if messages[-1].role == 'assistant' else 'user') + '\\n' -}}
{%- for m in messages -%}{{ render_content(m.content) | trim }}{%- if m.content.startswith('<think>') -%}{{ m.content.split('</think>')[-1] | trim }}{%- endif -%}{%- endfor -%}
{{- '%s tools' % (names | length) -}}{{- 'Knowledge cutoff: {}'.format('2024-06') -}}{{- range(3) | list | length -}}{{- dict(a=1) | tojson -}}
{%- generation -%}{{ '<end_of_turn>' }}{%- endgeneration -%}`,
};

/** Template injections, each with the rule and the least severity it must get. */
const MALICIOUS: Array<[string, string, Severity]> = [
  ["{{ cycler.__init__.__globals__.os.popen('id').read() }}", 'MG-TPL-001', 'critical'],
  ["{{ ''.__class__.__mro__[1].__subclasses__() }}", 'MG-TPL-001', 'critical'],
  ['{% set x = namespace() %}{{ x.__init__ }}', 'MG-TPL-001', 'critical'],
  ['{{ self._TemplateReference__context }}', 'MG-TPL-001', 'critical'],
  ["{{ request|attr('application')|attr('\\x5f\\x5fglobals\\x5f\\x5f') }}", 'MG-TPL-001', 'critical'],
  ["{{ lipsum['__glo' ~ 'bals__'] }}", 'MG-TPL-001', 'critical'],
  ["{% import 'os' as os %}{{ os.system('id') }}", 'MG-TPL-003', 'high'],
  ["{% from 'macros.jinja' import evil %}", 'MG-TPL-003', 'high'],
  ["{% include '/etc/passwd' %}", 'MG-TPL-003', 'high'],
  ["{% extends 'base.jinja' %}", 'MG-TPL-003', 'high'],
  ["{{ x[['__cl', 'ass__']|join] }}", 'MG-TPL-001', 'critical'],
  ["{{ x['_' * 2 ~ 'class' ~ '_' * 2] }}", 'MG-TPL-001', 'critical'],
  ["{{ x['%c%c'|format(95, 95) ~ 'class__'] }}", 'MG-TPL-001', 'critical'],
  ["{{ x['{}{}class{}{}'.format('_', '_', '_', '_')] }}", 'MG-TPL-001', 'critical'],
  ["{{ x['__ssalc__'[::-1]] }}", 'MG-TPL-001', 'critical'],
  ["{{ x['__CLASS__'|lower] }}", 'MG-TPL-001', 'critical'],
  ["{% set a = '__cla' %}{% set b = 'ss__' %}{{ x[a ~ b] }}", 'MG-TPL-001', 'critical'],
  ["{% set a = 'x' %}{% set a = '__glo' %}{{ lipsum|attr(a ~ 'bals__') }}", 'MG-TPL-001', 'critical'],
  ["{% set a %}__cla{% endset %}{% set b %}ss__{% endset %}{{ x[a ~ b] }}", 'MG-TPL-001', 'critical'],
  ["{% set ns = namespace(k='') %}{% for c in ['_', '_', 'cl', 'ass', '_', '_'] %}{% set ns.k = ns.k ~ c %}{% endfor %}{{ x[ns.k] }}", 'MG-TPL-001', 'critical'],
  ["{{ x['\\137\\137class\\137\\137'] }}", 'MG-TPL-001', 'critical'],
  ["{{ x['\\N{LOW LINE}\\N{LOW LINE}class__'] }}", 'MG-TPL-001', 'critical'],
  ["{{ x['\\u005f\\u005fclass\\u005f\\u005f'] }}", 'MG-TPL-001', 'critical'],
  ["{{ '{0.__class__.__init__.__globals__}'.format(lipsum) }}", 'MG-TPL-001', 'critical'],
  ["{{ messages|map(attribute='__class__')|list }}", 'MG-TPL-001', 'critical'],
  ['{{ loop.__class__.__mro__ }}', 'MG-TPL-001', 'critical'],
  ['{{ range.__init__.__globals__ }}', 'MG-TPL-001', 'critical'],
  ['{% with a = 1 %}{{ a.__class__ }}{% endwith %}', 'MG-TPL-001', 'critical'],
  ['{{ x|attr(y) }}', 'MG-TPL-002', 'high'],
  ["{{ messages|map('attr', 'x')|list }}", 'MG-TPL-002', 'high'],
  ["{{ '{0.im_func}'.format(x) }}", 'MG-TPL-002', 'high'],
  ['{{ config.items() }}', 'MG-TPL-002', 'high'],
  ['{{ joiner() }}', 'MG-TPL-002', 'high'],
  ["{{ x['os'].popen('id') }}", 'MG-TPL-002', 'high'],
  ['{{ x.mro() }}', 'MG-TPL-002', 'high'],
  ["{{ open('/etc/passwd').read() }}", 'MG-TPL-002', 'high'],
  ['{{ x._private }}', 'MG-TPL-002', 'high'],
  ["{{ x['\\x6f\\x73'] }}", 'MG-TPL-002', 'high'],
  ['{{ x.environment.globals }}', 'MG-TPL-002', 'high'],
  // Fifty lesser issues first cannot crowd out the escape that follows.
  [Array.from({ length: 50 }, (_, i) => `{{ x._p${i} }}`).join('') + '{{ y.__class__ }}', 'MG-TPL-001', 'critical'],
];

describe('chat templates: real templates stay clean', () => {
  it('the corpus has the 21 real templates', () => assert.equal(REAL.length, 21));
  for (const [name, text] of REAL) {
    it(`${name} parses and has no issue`, () => {
      const v = checkTemplate(text);
      assert.equal(v.parsed, true);
      assert.deepEqual(v.issues, []);
    });
  }
  for (const [name, text] of Object.entries(BENIGN)) {
    it(`${name} has no issue`, () => {
      const v = checkTemplate(text);
      assert.equal(v.parsed, true);
      assert.deepEqual(v.issues.map((i) => `${i.ruleId} ${i.evidence.name}`), []);
    });
  }
  it('inside tokenizer_config.json (string form), one file per template', async () => {
    for (const [name, text] of REAL) {
      const rows = await scanBytes(JSON.stringify({ bos_token: '<s>', chat_template: text, model_max_length: 4096 }, null, 2), 'model/tokenizer_config.json');
      assert.deepEqual(above(rows, 'low'), [], name);
      assert.equal(rows[0].status, 'scanned', name);
    }
  });
  it('inside tokenizer_config.json (list form), all templates in one file', async () => {
    const list = REAL.map(([name, template]) => ({ name: name.replace(/\.jinja$/, ''), template }));
    const rows = await scanBytes(JSON.stringify({ chat_template: list }), 'tokenizer_config.json');
    assert.deepEqual(above(rows, 'low'), []);
    assert.equal(rows[0].status, 'scanned');
  });
  it('inside chat_template.json and as .j2 / chat_template.jinja files', async () => {
    for (const [, text] of REAL.slice(0, 5)) {
      assert.deepEqual(above(await scanBytes(JSON.stringify({ chat_template: text }), 'chat_template.json'), 'low'), []);
      assert.deepEqual(above(await scanBytes(text, 'templates/chat.j2'), 'low'), []);
      assert.deepEqual(above(await scanBytes(text, 'chat_template.jinja'), 'low'), []);
    }
  });
  it('inside GGUF files built in memory', async () => {
    for (const [name, text] of REAL) {
      const rows = await scanBytes(gguf(modelKvs(text)), 'model.gguf');
      assert.deepEqual(above(rows, 'low'), [], name);
      assert.equal(rows[0].status, 'scanned');
    }
  });
});

describe('chat templates: injection is flagged', () => {
  for (const [text, rule, floor] of MALICIOUS) {
    it(`${rule} ≥ ${floor}: ${text}`, () => {
      const v = checkTemplate(text);
      const hit = v.issues.find((i) => i.ruleId === rule && severityRank(i.severity) >= severityRank(floor));
      assert.ok(hit, JSON.stringify(v.issues.map((i) => [i.ruleId, i.severity, i.evidence.name])));
      assert.equal(typeof hit.evidence.fragment, 'string');
      assert.equal(typeof hit.evidence.node, 'string');
    });
  }

  it('in tokenizer_config.json: the finding names the template and the file exits 1', async () => {
    const rows = await scanBytes(JSON.stringify({ chat_template: [{ name: 'default', template: REAL[0][1] }, { name: 'tool_use', template: MALICIOUS[0][0] }] }), 'm/tokenizer_config.json');
    const f = findings(rows).find((x) => x.ruleId === 'MG-TPL-001');
    assert.ok(f);
    assert.equal(f.severity, 'critical');
    assert.equal(f.path, 'm/tokenizer_config.json!chat_template.tool_use');
    assert.equal(f.evidence.template, 'chat_template.tool_use');
  });

  it('in a GGUF: the path names the metadata key and the offset points at the template bytes', async () => {
    const bytes = gguf(modelKvs(MALICIOUS[1][0]));
    const rows = await scanBytes(bytes, 'm.gguf');
    const f = findings(rows).find((x) => x.ruleId === 'MG-TPL-001');
    assert.ok(f);
    assert.equal(f.path, 'm.gguf!tokenizer.chat_template');
    assert.equal(new TextDecoder().decode(bytes.subarray(f.offset ?? 0, (f.offset ?? 0) + 4)), "{{ '");
  });

  it('a named GGUF template (tokenizer.chat_template.tool_use) is checked too', async () => {
    const kvs = [...modelKvs(REAL[0][1]), { key: 'tokenizer.chat_template.tool_use', type: 8, value: MALICIOUS[5][0] }];
    const f = findings(await scanBytes(gguf(kvs), 'm.gguf')).find((x) => x.ruleId === 'MG-TPL-001');
    assert.equal(f?.path, 'm.gguf!tokenizer.chat_template.tool_use');
  });
});

describe('chat templates: what cannot be parsed fails closed', () => {
  it('a template the parser rejects is medium and the file is an error', async () => {
    const rows = await scanBytes(JSON.stringify({ chat_template: '{% for m in messages %}{{ m.content }}' }), 'tokenizer_config.json');
    assert.equal(rows[0].status, 'error');
    assert.deepEqual(findings(rows).map((f) => [f.ruleId, f.severity]), [['MG-TPL-004', 'medium']]);
  });
  it('jinja2 syntax the subset parser lacks is still token-scanned', () => {
    const v = checkTemplate('{% raw %}{{ x }}{% endraw %}{% with y = lipsum %}{{ y.__globals__ }}{% endwith %}');
    assert.equal(v.parsed, false);
    assert.equal(worst('{% with y = lipsum %}{{ y.__globals__ }}{% endwith %}'), 'critical');
  });
  it('dunders in plain text or raw blocks are a medium review item, not an escape', () => {
    assert.equal(worst('You are a Python tutor. Explain __init__ methods.'), 'medium');
    assert.equal(worst('{% raw %}{{ x.__class__ }}{% endraw %}'), 'medium');
  });
  it('deep nesting does not crash and finishes quickly', () => {
    const t0 = performance.now();
    for (const text of ['{{ ' + '('.repeat(50_000) + '1' + ')'.repeat(50_000) + ' }}', '{{ x' + '.a'.repeat(50_000) + ' }}', '{{ ' + "'a' ~ ".repeat(20_000) + "'b' }}", '{% if x %}'.repeat(5000) + '{% endif %}'.repeat(5000)]) {
      const v = checkTemplate(text);
      assert.ok(v.issues.every((i) => i.severity === 'medium' || i.severity === 'low'), JSON.stringify(v.issues.slice(0, 2)));
    }
    assert.ok(performance.now() - t0 < 10_000);
  });
  it('a long real-looking template is checked in bounded time; an oversized one is reported', () => {
    const qwen = REAL.find(([n]) => n.includes('qwen'))?.[1] ?? '';
    const t0 = performance.now();
    assert.deepEqual(checkTemplate(qwen.repeat(300)).issues, []);
    assert.ok(performance.now() - t0 < 10_000);
    const big = checkTemplate('x'.repeat(MAX_TEMPLATE_CHARS + 1));
    assert.deepEqual(big.issues.map((i) => [i.ruleId, i.severity]), [['MG-TPL-004', 'medium']]);
  });
  it('JSON without a chat template is not touched', async () => {
    assert.deepEqual(findings(await scanBytes(JSON.stringify({ bos_token: '<s>', eos_token: '</s>' }), 'tokenizer_config.json')), []);
  });
});
