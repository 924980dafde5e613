// Chat templates in text files: `chat_template` in tokenizer_config.json / chat_template.json /
// processor configs (a string, or a list of {name, template}), and Jinja files (`*.jinja`, `*.j2`,
// `chat_template.jinja`). Each is checked as the Jinja a loader renders on every request.
import { reportTemplate } from '../templates.ts';
import type { TextCheck, TextContext } from './types.ts';

function templatesOf(doc: unknown): Array<[string, unknown]> {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || !('chat_template' in doc)) return [];
  const t = (doc as { chat_template: unknown }).chat_template;
  if (typeof t === 'string') return [['chat_template', t]];
  if (Array.isArray(t)) {
    // transformers' list form: [{"name": "default", "template": "…"}, {"name": "tool_use", …}]
    return t.map((item, i): [string, unknown] => {
      const o = (typeof item === 'object' && item !== null ? item : {}) as { name?: unknown; template?: unknown };
      return [`chat_template.${typeof o.name === 'string' ? o.name : i}`, o.template];
    });
  }
  if (typeof t === 'object' && t !== null) return Object.entries(t).map(([k, v]): [string, unknown] => [`chat_template.${k}`, v]);
  return [];
}

export const chatTemplateCheck: TextCheck = {
  id: 'chat-template',
  applies: (ctx) => ctx.kind === 'jinja' || templatesOf(ctx.doc).length > 0,
  run(ctx: TextContext) {
    if (ctx.kind === 'jinja') {
      reportTemplate(ctx.input, ctx.entry, ctx.text, { path: ctx.entry.path, key: ctx.name });
      return;
    }
    for (const [key, template] of templatesOf(ctx.doc)) {
      if (typeof template !== 'string') continue;
      ctx.input.checkTime();
      reportTemplate(ctx.input, ctx.entry, template, { path: `${ctx.entry.path}!${key}`, key });
    }
  },
};

export const templatesChecks: TextCheck[] = [chatTemplateCheck];
