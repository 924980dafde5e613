// The chat-template checker shared by the GGUF analyzer and the text checks. A chat template is Jinja that
// a loader renders on every request; rendered with an unsandboxed jinja2.Environment (llama-cpp-python
// < 0.2.72, CVE-2024-34359, and any home-grown server) it reaches Python through attribute chains such as
// `lipsum.__globals__['os'].popen(...)`. We never render: the template is parsed with @huggingface/jinja
// and its AST walked (with constant folding, so `'__cl' ~ 'ass__'` is seen as `__class__`), and a token
// scan of the raw text backs that up for everything jinja2 accepts and the subset parser does not.
import { parse, tokenize } from '@huggingface/jinja';
import type { Entry, InputScan } from './context.ts';
import type { Evidence, Severity } from './model.ts';

export const TPL_REACH = 'MG-TPL-001';
export const TPL_SUSPICIOUS = 'MG-TPL-002';
export const TPL_LOAD = 'MG-TPL-003';
export const TPL_UNPARSEABLE = 'MG-TPL-004';

export interface TemplateIssue {
  ruleId: string;
  severity: Severity;
  message: string;
  evidence: Evidence;
}

export interface TemplateVerdict {
  issues: TemplateIssue[];
  /** False when @huggingface/jinja could not parse it (only the token scan ran). */
  parsed: boolean;
}

/** Templates longer than this are not parsed (real ones are < 100 KB). */
export const MAX_TEMPLATE_CHARS = 2 << 20;
const MAX_ISSUES = 40;
const MAX_FOLD = 1 << 16;

const DUNDER = /__[A-Za-z0-9]\w*?__/;
/** Python name mangling (`_TemplateReference__context`): private attributes of jinja2's own objects. */
const MANGLED = /^_[A-Za-z][A-Za-z0-9]*__[A-Za-z]\w*$/;
/** jinja2 globals that are the usual first step of a sandbox escape (their functions carry __globals__). */
const GADGETS = new Set(['lipsum', 'cycler', 'joiner', 'self', 'config', 'request', 'url_for', 'get_flashed_messages', 'session']);
/** Names that only appear in a template to reach the interpreter. */
const DANGER = new Set([
  'os', 'sys', 'subprocess', 'builtins', 'importlib', 'popen', 'getattr', 'setattr', 'delattr', 'import_module',
  'check_output', 'check_call', 'getoutput', 'getstatusoutput', 'spawn', 'spawnl', 'spawnv', 'execl', 'execv', 'execve',
  'f_globals', 'f_locals', 'f_back', 'f_builtins', 'gi_frame', 'gi_code', 'cr_frame', 'tb_frame', 'co_code', 'func_globals',
  'func_code', 'im_func', 'load_module', 'pty', 'socket', 'ctypes', 'environ', 'modules',
]);
/** Attributes of jinja2/Python objects that lead to the interpreter (as plain names they are ordinary words). */
const DANGER_ATTRS = new Set(['globals', 'environment', 'mro', 'eval', 'exec', 'func_globals', 'im_self', 'gi_frame']);
/** Names dangerous when called (as plain names they are ordinary words: `system`, `open`, `globals`…). */
const DANGER_CALLS = new Set(['system', 'open', 'eval', 'exec', 'execfile', 'compile', 'globals', 'locals', 'vars', 'mro', 'input', 'breakpoint', 'run', 'Popen', 'call', 'read_text', 'write_text']);
/** Statements that make jinja2 load another template through the environment's loader. */
const LOAD_STATEMENTS = new Set(['import', 'from', 'include', 'extends']);
/** Filters that call `attr` or take an attribute name to resolve on each item. */
const ATTRIBUTE_FILTERS = new Set(['map', 'select', 'reject', 'selectattr', 'rejectattr', 'sort', 'groupby', 'sum', 'unique', 'min', 'max']);
/** A str.format field that walks attributes or items: `{0.__class__}`, `{x[key]}`. */
const FORMAT_FIELD = /\{[^{}]*[.[][^{}]*\}/;
const STATEMENTS = new Set(['Program', 'If', 'For', 'Set', 'Macro', 'CallStatement', 'FilterStatement']);
/** Expression nodes whose constant value is worth computing. */
const FOLDABLE = new Set(['StringLiteral', 'BinaryExpression', 'FilterExpression', 'CallExpression', 'MemberExpression']);

function clip(s: string, n = 160): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
}

/** Collects issues, one per (rule, subject); padding with lesser issues cannot crowd out a critical one. */
class Issues {
  readonly byKey = new Map<string, TemplateIssue>();
  add(ruleId: string, severity: Severity, subject: string, message: string, fragment: string, node: string): void {
    const key = `${ruleId}|${subject}`;
    if (this.byKey.has(key) || this.byKey.size >= (severity === 'critical' ? 4 * MAX_ISSUES : MAX_ISSUES)) return;
    this.byKey.set(key, { ruleId, severity, message, evidence: { fragment: clip(fragment), node, name: subject } });
  }
  reach(name: string, fragment: string, node: string, how: string): void {
    const mangled = MANGLED.test(name) && !DUNDER.test(name);
    this.add(TPL_REACH, 'critical', name, mangled
      ? `Template ${how} "${name}", a name-mangled private attribute of jinja2's own objects; rendered outside a sandbox it reaches the template context and Python.`
      : `Template ${how} "${name}", a Python internal: this is server-side template injection that reaches os/builtins when the loader renders it.`, fragment, node);
  }
}

/** A dunder or mangled name inside `s`, if any. */
function internalName(s: string): string | null {
  const m = DUNDER.exec(s);
  if (m) return m[0];
  return MANGLED.test(s) ? s : null;
}

// ---------------------------------------------------------------------------------------------------
// AST walk (@huggingface/jinja). Its node classes are not exported; nodes are plain objects with `type`.

interface Node {
  type: string;
  [field: string]: unknown;
}
type Fold = string | number | boolean | null | Fold[];

function isNode(x: unknown): x is Node {
  return typeof x === 'object' && x !== null && typeof (x as Node).type === 'string' && !Array.isArray(x);
}

/** Child nodes; `operator` holds a lexer Token (whose type can be "Identifier"), not a node. */
function children(n: Node): Node[] {
  const out: Node[] = [];
  for (const [k, v] of Object.entries(n)) {
    if (k === 'operator') continue;
    if (Array.isArray(v)) for (const x of v) isNode(x) && out.push(x);
    else if (v instanceof Map) for (const [mk, mv] of v) (isNode(mk) && out.push(mk), isNode(mv) && out.push(mv));
    else if (isNode(v)) out.push(v);
  }
  return out;
}

function op(n: Node): string {
  return String((n.operator as { value?: string } | undefined)?.value ?? '');
}

/** A short jinja-like rendering of an expression, for evidence. */
function show(n: unknown, depth = 0): string {
  if (!isNode(n) || depth > 12) return '…';
  const d = depth + 1;
  switch (n.type) {
    case 'Identifier': return String(n.value);
    case 'StringLiteral': return JSON.stringify(clip(String(n.value), 60));
    case 'IntegerLiteral': case 'FloatLiteral': return String(n.value);
    case 'MemberExpression': return n.computed ? `${show(n.object, d)}[${show(n.property, d)}]` : `${show(n.object, d)}.${show(n.property, d)}`;
    case 'CallExpression': return `${show(n.callee, d)}(${showList(n.args, d)})`;
    case 'FilterExpression': return `${show(n.operand, d)}|${show(n.filter, d)}`;
    case 'BinaryExpression': return `${show(n.left, d)} ${op(n)} ${show(n.right, d)}`;
    case 'KeywordArgumentExpression': return `${show(n.key, d)}=${show(n.value, d)}`;
    case 'ArrayLiteral': case 'TupleLiteral': return `[${showList(n.value, d)}]`;
    case 'Set': return `set ${show(n.assignee, d)} = ${show(n.value, d)}`;
    case 'TestExpression': return `${show(n.operand, d)} is ${n.negate ? 'not ' : ''}${show(n.test, d)}`;
    case 'UnaryExpression': return `${op(n)} ${show(n.argument, d)}`;
    case 'Ternary': return `${show(n.trueExpr, d)} if ${show(n.condition, d)} else ${show(n.falseExpr, d)}`;
    case 'SelectExpression': return `${show(n.lhs, d)} if ${show(n.test, d)}`;
    case 'SliceExpression': return `${n.start ? show(n.start, d) : ''}:${n.stop ? show(n.stop, d) : ''}${n.step ? `:${show(n.step, d)}` : ''}`;
    default: return n.type;
  }
}

function showList(xs: unknown, depth: number): string {
  const list = Array.isArray(xs) ? xs : [];
  const shown: string[] = [];
  for (const x of list.slice(0, 8)) shown.push(show(x, depth));
  return list.length > 8 ? `${shown.join(', ')}, …` : shown.join(', ');
}

function pyStr(v: Fold): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (Array.isArray(v)) return `[${v.map((x) => (typeof x === 'string' ? `'${x}'` : pyStr(x))).join(', ')}]`;
  return String(v);
}

/** Python's `%` formatting, for the conversions a template could use to build a name. */
function percentFormat(fmt: string, args: Fold[]): string | undefined {
  let i = 0;
  let bad = false;
  const out = fmt.replace(/%(?:\(\w+\))?[-+ #0]*\d*(?:\.\d+)?([sdrcixXo%])/g, (_m, conv: string) => {
    if (conv === '%') return '%';
    const a = args[i++];
    if (a === undefined) return ((bad = true), '');
    if (conv === 'c') return typeof a === 'number' ? String.fromCodePoint(a) : String(a);
    if (conv === 'x' || conv === 'X' || conv === 'o') return typeof a === 'number' ? a.toString(conv === 'o' ? 8 : 16) : ((bad = true), '');
    return pyStr(a);
  });
  return bad ? undefined : out;
}

/** str.format with positional fields (`{}`, `{0}`); anything fancier is not folded. */
function braceFormat(fmt: string, args: Fold[]): string | undefined {
  let auto = 0;
  let bad = false;
  const out = fmt.replace(/\{\{|\}\}|\{(\d*)\}/g, (m, idx: string | undefined) => {
    if (m === '{{') return '{';
    if (m === '}}') return '}';
    const a = args[idx ? Number(idx) : auto++];
    if (a === undefined) return ((bad = true), '');
    return pyStr(a);
  });
  return bad ? undefined : out;
}

function slice(v: string | Fold[], sl: Node, fold: (n: unknown) => Fold | undefined): string | Fold[] | undefined {
  const num = (x: unknown): number | null | undefined => (x === undefined ? null : (fold(x) as number | undefined));
  const step = num(sl.step) ?? 1;
  let start = num(sl.start);
  let stop = num(sl.stop);
  if (typeof step !== 'number' || step === 0 || start === undefined || stop === undefined) return undefined;
  const chars = typeof v === 'string' ? [...v] : v;
  const len = chars.length;
  const norm = (x: number | null, dflt: number): number => (x === null ? dflt : x < 0 ? Math.max(x + len, step < 0 ? -1 : 0) : Math.min(x, step < 0 ? len - 1 : len));
  start = norm(start, step > 0 ? 0 : len - 1);
  stop = norm(stop, step > 0 ? len : -1);
  const out: Fold[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(chars[i]);
  return typeof v === 'string' ? out.join('') : out;
}

class AstChecker {
  private folded = new Map<Node, Fold | undefined>();
  /** Every expression assigned to a name (`set x`, `set ns.attr`), for folding and reach bags. */
  private assigned = new Map<string, Node[]>();
  /** What each loop variable iterates over (reach bags only: a loop variable is not the iterable). */
  private iterated = new Map<string, Node[]>();
  private locals = new Set<string>();
  private shown = new Map<Node, string>();

  constructor(private issues: Issues) {}

  run(program: Node): void {
    this.collectAssignments(program);
    // Iterative walks: a hostile template nests deeply, and the parser already used the stack.
    const order: Node[] = [];
    for (const stack = [program]; stack.length; ) {
      const n = stack.pop() as Node;
      order.push(n);
      stack.push(...children(n));
    }
    // Fold bottom-up, so folding a node never recurses further than its children.
    for (let i = order.length - 1; i >= 0; i--) this.fold(order[i]);
    // `top` is the whole expression a node belongs to, shown as evidence; `inConcat` marks operands of a
    // concatenation that folded to a string (its string is checked once, not again for every operand).
    const stack: Array<{ n: Node; role: string; top: Node; inConcat: boolean }> = [{ n: program, role: 'stmt', top: program, inConcat: false }];
    while (stack.length) {
      const { n, role, top, inConcat } = stack.pop() as (typeof stack)[number];
      let shown = this.shown.get(top);
      if (shown === undefined) this.shown.set(top, (shown = show(top)));
      this.check(n, role, shown, inConcat);
      const concat = n.type === 'BinaryExpression' && typeof this.fold(n) === 'string';
      for (const [c, r] of this.roles(n)) stack.push({ n: c, role: r, top: STATEMENTS.has(n.type) ? c : top, inConcat: concat });
    }
  }

  /** Each child with the role it plays: a free variable, an attribute name, a filter name, a parameter… */
  private roles(n: Node): Array<[Node, string]> {
    const kids = children(n);
    const bodies = [n.body, n.alternate, n.defaultBlock].filter(Array.isArray) as Node[][];
    return kids.map((c): [Node, string] => {
      if (bodies.some((b) => b.includes(c))) return [c, 'stmt'];
      if (n.type === 'MemberExpression' && c === n.property && !n.computed) return [c, 'attribute'];
      if (n.type === 'FilterExpression' && c === n.filter) return [c, c.type === 'Identifier' ? 'filter' : 'filter-call'];
      if (n.type === 'FilterStatement' && c === n.filter) return [c, c.type === 'Identifier' ? 'filter' : 'filter-call'];
      if (n.type === 'TestExpression' && c === n.test) return [c, 'test'];
      if (n.type === 'KeywordArgumentExpression' && c === n.key) return [c, 'keyword'];
      if (n.type === 'CallExpression' && c === n.callee) return [c, 'callee'];
      if (n.type === 'Macro' && (c === n.name || (n.args as Node[]).includes(c))) return [c, 'parameter'];
      return [c, 'value'];
    });
  }

  private collectAssignments(program: Node): void {
    const add = (name: string, value: Node | null, into = this.assigned): void => {
      this.locals.add(name.split('.')[0]);
      if (value) into.set(name, [...(into.get(name) ?? []), value]);
    };
    const targets = (t: Node, value: Node | null, into = this.assigned): void => {
      if (t.type === 'Identifier') add(String(t.value), value, into);
      else if (t.type === 'MemberExpression' && !t.computed && isNode(t.object) && t.object.type === 'Identifier' && isNode(t.property)) add(`${t.object.value}.${t.property.value}`, value, into);
      else if (t.type === 'TupleLiteral' || t.type === 'ArrayLiteral') for (const x of t.value as Node[]) targets(x, value, this.iterated);
    };
    const stack: Node[] = [program];
    while (stack.length) {
      const n = stack.pop() as Node;
      if (n.type === 'Set' && isNode(n.assignee)) {
        // `{% set x %}text{% endset %}`: the body is the value.
        const body = (n.body as Node[]) ?? [];
        targets(n.assignee, isNode(n.value) ? n.value : body.length ? { type: 'BlockValue', value: body } : null);
      }
      if (n.type === 'For' && isNode(n.loopvar)) targets(n.loopvar, isNode(n.iterable) ? n.iterable : null, this.iterated);
      if (n.type === 'Macro') for (const a of [n.name, ...(n.args as Node[])]) if (isNode(a)) add(String(a.type === 'Identifier' ? a.value : (a.key as Node)?.value), null);
      if (n.type === 'CallStatement' && Array.isArray(n.callerArgs)) for (const a of n.callerArgs as Node[]) if (a.type === 'Identifier') add(String(a.value), null);
      stack.push(...children(n).reverse()); // source order: bags list assignments as written
    }
  }

  /** The value of a constant expression, or undefined. Memoized: each node is folded once. */
  fold(n: unknown, depth = 0): Fold | undefined {
    if (!isNode(n)) return undefined;
    if (this.folded.has(n)) return this.folded.get(n);
    this.folded.set(n, undefined); // cycle guard
    const v = depth > 200 ? undefined : this.foldNode(n, depth + 1);
    const ok = v === undefined || (typeof v === 'string' ? v.length <= MAX_FOLD : !Array.isArray(v) || v.length <= MAX_FOLD);
    this.folded.set(n, ok ? v : undefined);
    return ok ? v : undefined;
  }

  private foldNode(n: Node, d: number): Fold | undefined {
    const f = (x: unknown): Fold | undefined => this.fold(x, d);
    switch (n.type) {
      case 'StringLiteral': case 'IntegerLiteral': case 'FloatLiteral': return n.value as Fold;
      case 'BlockValue': {
        const parts = (n.value as Node[]).map(f);
        return parts.every((x) => x !== undefined) ? parts.map((x) => pyStr(x as Fold)).join('') : undefined;
      }
      case 'ArrayLiteral': case 'TupleLiteral': {
        const xs = (n.value as Node[]).map(f);
        return xs.every((x) => x !== undefined) ? (xs as Fold[]) : undefined;
      }
      case 'Identifier': {
        if (n.value === 'none' || n.value === 'None') return null;
        if (n.value === 'true' || n.value === 'True') return true;
        if (n.value === 'false' || n.value === 'False') return false;
        const vals = this.assigned.get(String(n.value));
        return vals?.length === 1 ? f(vals[0]) : undefined;
      }
      case 'BinaryExpression': {
        const a = f(n.left);
        const b = f(n.right);
        if (a === undefined || b === undefined) return undefined;
        switch (op(n)) {
          case '~': return pyStr(a) + pyStr(b);
          case '+': return typeof a === 'string' && typeof b === 'string' ? a + b : typeof a === 'number' && typeof b === 'number' ? a + b : Array.isArray(a) && Array.isArray(b) ? [...a, ...b] : undefined;
          case '*': {
            const [s, k] = typeof a === 'number' ? [b, a] : [a, b];
            if (typeof k !== 'number' || k < 0 || k > MAX_FOLD) return undefined;
            if (typeof s === 'number') return s * k;
            if (typeof s === 'string' && s.length * k <= MAX_FOLD) return s.repeat(k);
            return undefined;
          }
          case '%': return typeof a === 'string' ? percentFormat(a, Array.isArray(b) ? b : [b]) : undefined;
          default: return undefined;
        }
      }
      case 'FilterExpression': {
        const v = f(n.operand);
        const filter = n.filter as Node;
        const name = String(filter.type === 'Identifier' ? filter.value : (filter.callee as Node)?.value);
        const args = filter.type === 'CallExpression' ? (filter.args as Node[]).map(f) : [];
        if (v === undefined || args.some((x) => x === undefined)) return undefined;
        return this.applyFilter(name, v, args as Fold[]);
      }
      case 'CallExpression': {
        const callee = n.callee as Node;
        if (callee.type !== 'MemberExpression' || callee.computed) return undefined;
        const self = f(callee.object);
        const args = (n.args as Node[]).map(f);
        if (self === undefined || args.some((x) => x === undefined)) return undefined;
        return this.applyMethod(String((callee.property as Node).value), self, args as Fold[]);
      }
      case 'MemberExpression': {
        if (!n.computed) return undefined;
        const v = f(n.object);
        if (typeof v !== 'string' && !Array.isArray(v)) return undefined;
        const p = n.property as Node;
        if (p.type === 'SliceExpression') return slice(v, p, f);
        const i = f(p);
        if (typeof i !== 'number') return undefined;
        const chars = typeof v === 'string' ? [...v] : v;
        return chars.at(i);
      }
      default: return undefined;
    }
  }

  private applyFilter(name: string, v: Fold, args: Fold[]): Fold | undefined {
    const s = typeof v === 'string' ? v : undefined;
    switch (name) {
      case 'string': return pyStr(v);
      case 'lower': return s?.toLowerCase();
      case 'upper': return s?.toUpperCase();
      case 'trim': return s?.trim();
      case 'reverse': return s !== undefined ? [...s].reverse().join('') : Array.isArray(v) ? [...v].reverse() : undefined;
      case 'join': return Array.isArray(v) ? v.map(pyStr).join(typeof args[0] === 'string' ? args[0] : '') : undefined;
      case 'replace': return s !== undefined && typeof args[0] === 'string' && typeof args[1] === 'string' ? s.split(args[0]).join(args[1]) : undefined;
      case 'format': return s !== undefined ? percentFormat(s, args) : undefined;
      case 'first': return s !== undefined ? s[0] : Array.isArray(v) ? v[0] : undefined;
      case 'last': return s !== undefined ? s.at(-1) : Array.isArray(v) ? v.at(-1) : undefined;
      case 'list': return s !== undefined ? [...s] : Array.isArray(v) ? v : undefined;
      default: return undefined;
    }
  }

  private applyMethod(name: string, v: Fold, args: Fold[]): Fold | undefined {
    if (typeof v !== 'string') return undefined;
    switch (name) {
      case 'format': return braceFormat(v, args);
      case 'join': return Array.isArray(args[0]) ? args[0].map(pyStr).join(v) : undefined;
      case 'replace': return typeof args[0] === 'string' && typeof args[1] === 'string' ? v.split(args[0]).join(args[1]) : undefined;
      case 'lower': return v.toLowerCase();
      case 'upper': return v.toUpperCase();
      case 'strip': return v.trim();
      default: return undefined;
    }
  }

  /**
   * Every string an expression could be built from, in source order: its literals, and whatever its
   * variables were assigned or iterate over. Catches names assembled where folding cannot follow
   * (`{% for c in ['_','_','cl',…] %}{% set ns.k = ns.k ~ c %}…x[ns.k]`).
   */
  private bag(root: Node): string {
    const seen = new Set<Node | string>();
    const out: string[] = [];
    let size = 0;
    const stack: Node[] = [root];
    while (stack.length && size < MAX_FOLD) {
      const x = stack.pop() as Node;
      if (seen.has(x)) continue;
      seen.add(x);
      const v = this.fold(x);
      if (typeof v === 'string' || Array.isArray(v)) {
        const s = typeof v === 'string' ? v : v.map(pyStr).join('');
        out.push(s);
        size += s.length;
        continue;
      }
      const name = x.type === 'Identifier' ? String(x.value) : x.type === 'MemberExpression' && !x.computed && isNode(x.object) && isNode(x.property) ? `${x.object.value}.${x.property.value}` : null;
      if (name !== null) {
        if (!seen.has(name)) {
          seen.add(name);
          // Assignments are expanded in place (pushed so the first assignment is visited first).
          stack.push(...[...(this.assigned.get(name) ?? []), ...(this.iterated.get(name) ?? [])].reverse());
        }
        continue;
      }
      stack.push(...children(x).reverse());
    }
    return out.join('');
  }

  private check(n: Node, role: string, where: string, inConcat: boolean): void {
    const I = this.issues;
    if (role === 'stmt' && n.type === 'StringLiteral') return; // template text: the token scan reviews it
    // Any constant string spelling an internal name: `'__cl' ~ 'ass__'`, `['__cl','ass__']|join`, `'%c'|format(95)…`.
    if (FOLDABLE.has(n.type) && !inConcat) {
      const v = this.fold(n);
      const internal = typeof v === 'string' ? internalName(v) : null;
      if (internal) I.reach(internal, where, n.type, 'builds the string');
    }
    if (n.type === 'Identifier') {
      const name = String(n.value);
      const internal = internalName(name);
      if (internal) I.reach(internal, where, n.type, role === 'attribute' ? 'reads attribute' : 'uses the name');
      else if (role === 'attribute' && name.startsWith('_')) {
        I.add(TPL_SUSPICIOUS, 'high', name, `Template reads the private attribute "${name}"; jinja2's sandbox forbids underscore attributes because they lead to Python internals.`, where, n.type);
      }
      if ((role === 'value' || role === 'callee') && GADGETS.has(name) && !this.locals.has(name)) {
        I.add(TPL_SUSPICIOUS, 'high', name, `Template references the jinja2 global "${name}", a usual starting point of a sandbox escape (its functions carry __globals__); chat templates have no use for it.`, where, n.type);
      }
      if (((role === 'value' || role === 'attribute' || role === 'callee') && DANGER.has(name) && !(role !== 'attribute' && this.locals.has(name))) || (role === 'attribute' && DANGER_ATTRS.has(name))) {
        I.add(TPL_SUSPICIOUS, 'high', name, `Template refers to "${name}", a name that only serves to reach the interpreter (processes, files, imports).`, where, n.type);
      }
    } else if (n.type === 'CallExpression') {
      const c = n.callee as Node;
      const name = c.type === 'Identifier' ? String(c.value) : c.type === 'MemberExpression' && !c.computed ? String((c.property as Node).value) : '';
      if (DANGER_CALLS.has(name) && !(c.type === 'Identifier' && this.locals.has(name))) {
        I.add(TPL_SUSPICIOUS, 'high', `${name}()`, `Template calls "${name}(…)", which runs commands, reads files or evaluates code when it resolves to the Python function.`, where, n.type);
      }
      if ((name === 'format' || name === 'format_map') && c.type === 'MemberExpression') {
        const fmt = this.fold(c.object);
        if (typeof fmt === 'string' && FORMAT_FIELD.test(fmt)) {
          I.add(TPL_SUSPICIOUS, 'high', 'format-field', `Template formats with a field that reads attributes or items ("${clip(fmt, 60)}"); str.format walks attributes without the template engine's checks.`, where, n.type);
        }
      }
    } else if (n.type === 'FilterExpression' || n.type === 'FilterStatement') {
      const filter = n.filter as Node;
      const name = String(filter.type === 'Identifier' ? filter.value : (filter.callee as Node)?.value);
      const args = filter.type === 'CallExpression' ? (filter.args as Node[]) : [];
      if (name === 'attr') {
        const a = args[0];
        const v = a ? this.fold(a) : undefined;
        const internal = typeof v === 'string' ? internalName(v) : a ? internalName(this.bag(a)) : null;
        if (internal) I.reach(internal, where, n.type, 'resolves (through the attr filter)');
        else I.add(TPL_SUSPICIOUS, 'high', 'attr(…)', typeof v === 'string'
          ? `Template uses the attr filter ("${clip(v, 40)}"); attr reads Python attributes and is how sandbox escapes get past dot-syntax checks.`
          : 'Template uses the attr filter with a computed name; attr reads arbitrary Python attributes.', where, n.type);
      }
      if (ATTRIBUTE_FILTERS.has(name) && args.length) {
        if (this.fold(args[0]) === 'attr') I.add(TPL_SUSPICIOUS, 'high', `${name}(attr)`, `Template applies the attr filter through "${name}"; attr reads arbitrary Python attributes.`, where, n.type);
        for (const a of args) {
          if (a.type !== 'KeywordArgumentExpression' || (a.key as Node).value !== 'attribute') continue;
          const internal = internalName(this.bag(a.value as Node));
          if (internal) I.reach(internal, where, n.type, `resolves (through ${name}(attribute=…))`);
        }
      }
    } else if (n.type === 'MemberExpression' && n.computed && isNode(n.property) && n.property.type !== 'SliceExpression') {
      const v = this.fold(n.property);
      const internal = internalName(typeof v === 'string' ? v : this.bag(n.property));
      if (internal) I.reach(internal, where, n.type, 'looks up');
      else if (typeof v === 'string' && DANGER.has(v)) {
        I.add(TPL_SUSPICIOUS, 'high', v, `Template looks up the key "${v}", a name that only serves to reach the interpreter.`, where, n.type);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Token scan of the raw text: jinja2's own lexical rules (tags, comments, raw blocks, Python string
// escapes), independent of the subset parser. It sees statements @huggingface/jinja rejects (import,
// include, extends, raw, with, do…) and escapes it does not decode (octal, \N{…}, \U…).

interface RawToken {
  t: 'name' | 'str' | 'num' | 'op';
  v: string;
  /** Escape sequences in a string that spell identifier characters (obfuscation). */
  hidden?: string[];
}
interface RawTag {
  kind: 'expr' | 'stmt';
  text: string;
  tokens: RawToken[];
}

const NAMED_ESCAPES: Record<string, string> = { 'LOW LINE': '_', 'FULL STOP': '.', 'LEFT SQUARE BRACKET': '[', 'RIGHT SQUARE BRACKET': ']' };

/** Decodes a Python string literal body the way jinja2 does (`unicode-escape`). */
function decodePython(body: string): { value: string; hidden: string[] } {
  const hidden: string[] = [];
  const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"', '\n': '' };
  const value = body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}|N\{[^}]*\}|[\s\S])/g, (m, e: string) => {
    let c: string;
    if (e in simple) return simple[e];
    if (/^[xuU]/.test(e) && e.length > 1 && /^[0-9a-fA-F]+$/.test(e.slice(1))) c = String.fromCodePoint(Math.min(parseInt(e.slice(1), 16), 0x10ffff));
    else if (/^[0-7]+$/.test(e)) c = String.fromCharCode(parseInt(e, 8));
    else if (e.startsWith('N{')) c = NAMED_ESCAPES[e.slice(2, -1).toUpperCase()] ?? '\ufffd';
    else return m;
    if (/[\w.[\]]/.test(c) || c === '\ufffd') hidden.push(m);
    return c;
  });
  return { value, hidden };
}

const TAG_OPEN = /\{([{%#])([-+]?)/g;
const RAW_OPEN = /^\{%[-+]?\s*raw\s*[-+]?%\}/;
const RAW_CLOSE = /\{%[-+]?\s*endraw\s*[-+]?%\}/g;
const TOKEN = /\s+|([A-Za-z_\u00c0-\uffff][\w\u00c0-\uffff]*)|('(?:[^'\\]|\\[\s\S])*'|"(?:[^"\\]|\\[\s\S])*")|(\d[\d_]*(?:\.\d+)?(?:[eE][-+]?\d+)?)|(\*\*|\/\/|==|!=|<=|>=|[-+*/%~|.,:;()[\]{}<>=!])|([\s\S])/y;

/** Splits a template into text parts and tags, tokenizing each tag; follows jinja2's default delimiters. */
function scanRaw(text: string): { tags: RawTag[]; textParts: string[] } {
  const tags: RawTag[] = [];
  const textParts: string[] = [];
  let pos = 0;
  while (pos < text.length) {
    TAG_OPEN.lastIndex = pos;
    const m = TAG_OPEN.exec(text);
    if (!m) break;
    textParts.push(text.slice(pos, m.index));
    if (m[1] === '#') {
      const end = text.indexOf('#}', m.index + 2);
      pos = end < 0 ? text.length : end + 2;
      continue;
    }
    if (m[1] === '%' && RAW_OPEN.test(text.slice(m.index, m.index + 64))) {
      RAW_CLOSE.lastIndex = m.index;
      const close = RAW_CLOSE.exec(text);
      const start = m.index + (RAW_OPEN.exec(text.slice(m.index, m.index + 64)) as RegExpExecArray)[0].length;
      textParts.push(text.slice(start, close ? close.index : text.length));
      pos = close ? close.index + close[0].length : text.length;
      continue;
    }
    const closer = m[1] === '{' ? '}}' : '%}';
    const tokens: RawToken[] = [];
    let depth = 0;
    let i = m.index + m[0].length;
    for (;;) {
      if (i >= text.length) break;
      if (depth <= 0 && (text.startsWith(closer, i) || ((text[i] === '-' || text[i] === '+') && text.startsWith(closer, i + 1)))) {
        i += text[i] === '-' || text[i] === '+' ? 3 : 2;
        break;
      }
      TOKEN.lastIndex = i;
      const t = TOKEN.exec(text) as RegExpExecArray;
      i = TOKEN.lastIndex;
      if (t[1]) tokens.push({ t: 'name', v: t[1] });
      else if (t[2]) {
        const d = decodePython(t[2].slice(1, -1));
        tokens.push({ t: 'str', v: d.value, hidden: d.hidden });
      } else if (t[3]) tokens.push({ t: 'num', v: t[3] });
      else if (t[4]) {
        if ('([{'.includes(t[4])) depth++;
        if (')]}'.includes(t[4])) depth--;
        tokens.push({ t: 'op', v: t[4] });
      } else if (t[5]) tokens.push({ t: 'op', v: t[5] });
    }
    tags.push({ kind: m[1] === '{' ? 'expr' : 'stmt', text: text.slice(m.index, i), tokens });
    pos = i;
  }
  if (pos < text.length) textParts.push(text.slice(pos));
  return { tags, textParts };
}

function rawCheck(text: string, issues: Issues): void {
  const { tags, textParts } = scanRaw(text);
  // Names the template assigns itself: `{% set request = … %}` makes `request` a local, not the global.
  const locals = new Set<string>();
  for (const tag of tags) {
    const k = tag.tokens;
    if (tag.kind !== 'stmt' || k[0]?.t !== 'name') continue;
    if (k[0].v === 'set' && k[1]?.t === 'name') locals.add(k[1].v);
    if (k[0].v === 'for') for (let i = 1; i < k.length && k[i].v !== 'in'; i++) k[i].t === 'name' && locals.add(k[i].v);
    if (k[0].v === 'macro' || k[0].v === 'call') for (const x of k.slice(1)) x.t === 'name' && locals.add(x.v);
  }
  for (const tag of tags) {
    const k = tag.tokens;
    const frag = tag.text;
    if (tag.kind === 'stmt' && k[0]?.t === 'name' && LOAD_STATEMENTS.has(k[0].v)) {
      issues.add(TPL_LOAD, 'high', k[0].v, `Template uses "{% ${k[0].v} %}", which loads another template through the loader; a chat template is self-contained, and with a file-system loader this reads files.`, frag, 'statement');
    }
    const strings: string[] = [];
    let runEnd = -1;
    for (let i = 0; i < k.length; i++) {
      const x = k[i];
      const prev = k[i - 1];
      const next = k[i + 1];
      if (x.t === 'name') {
        const internal = internalName(x.v);
        if (internal) issues.reach(internal, frag, 'token', prev?.v === '.' ? 'reads attribute' : 'uses the name');
        else if (prev?.v === '.' && x.v.startsWith('_')) issues.add(TPL_SUSPICIOUS, 'high', x.v, `Template reads the private attribute "${x.v}"; jinja2's sandbox forbids underscore attributes because they lead to Python internals.`, frag, 'token');
        if (prev?.v === '|' && x.v === 'attr') issues.add(TPL_SUSPICIOUS, 'high', 'attr(…)', 'Template uses the attr filter; attr reads arbitrary Python attributes and is how sandbox escapes get past dot-syntax checks.', frag, 'token');
        if (prev?.v !== '.' && prev?.v !== '|' && GADGETS.has(x.v) && !locals.has(x.v) && next?.v !== '=') {
          issues.add(TPL_SUSPICIOUS, 'high', x.v, `Template references the jinja2 global "${x.v}", a usual starting point of a sandbox escape (its functions carry __globals__); chat templates have no use for it.`, frag, 'token');
        }
        if (((DANGER.has(x.v) && !(prev?.v !== '.' && locals.has(x.v))) || (prev?.v === '.' && DANGER_ATTRS.has(x.v))) && next?.v !== '=') issues.add(TPL_SUSPICIOUS, 'high', x.v, `Template refers to "${x.v}", a name that only serves to reach the interpreter (processes, files, imports).`, frag, 'token');
        if (DANGER_CALLS.has(x.v) && next?.v === '(' && prev?.v !== 'macro' && !(tag.kind === 'stmt' && i === 0) && !(prev?.v !== '.' && locals.has(x.v))) {
          issues.add(TPL_SUSPICIOUS, 'high', `${x.v}()`, `Template calls "${x.v}(…)", which runs commands, reads files or evaluates code when it resolves to the Python function.`, frag, 'token');
        }
        continue;
      }
      if (x.t !== 'str') continue;
      strings.push(x.v);
      const internal = internalName(x.v);
      if (internal) issues.reach(internal, frag, 'token', 'builds the string');
      // `'_' * 2` and adjacent literals joined with ~ or + fold into one string (each run scanned once).
      if (i > runEnd) {
        let run = x.v;
        let last = x.v;
        let j = i + 1;
        for (; j < k.length; j++) {
          if ((k[j].v === '~' || k[j].v === '+') && k[j + 1]?.t === 'str') run += (last = k[++j].v);
          else if (k[j].t === 'str') run += (last = k[j].v);
          else if (k[j].v === '*' && k[j + 1]?.t === 'num' && Number(k[j + 1].v) <= 64) run += last.repeat(Math.max(0, Number(k[++j].v) - 1));
          else break;
        }
        runEnd = j - 1;
        const built = DUNDER.exec(run);
        if (built) issues.reach(built[0], frag, 'token', 'builds the string');
      }
      if (x.hidden?.length) issues.add(TPL_SUSPICIOUS, 'high', 'escapes', `Template hides identifier characters behind string escapes (${x.hidden.slice(0, 4).join(' ')}); obfuscation has no place in a chat template.`, frag, 'token');
      if (prev?.v === '[' && next?.v === ']' && DANGER.has(x.v)) {
        issues.add(TPL_SUSPICIOUS, 'high', x.v, `Template looks up the key "${x.v}", a name that only serves to reach the interpreter.`, frag, 'token');
      }
      if (x.v === 'attr' && prev?.v === '(' && ATTRIBUTE_FILTERS.has(k[i - 2]?.v ?? '')) issues.add(TPL_SUSPICIOUS, 'high', `${k[i - 2].v}(attr)`, `Template applies the attr filter through "${k[i - 2].v}"; attr reads arbitrary Python attributes.`, frag, 'token');
      if (next?.v === '.' && (k[i + 2]?.v === 'format' || k[i + 2]?.v === 'format_map') && FORMAT_FIELD.test(x.v)) {
        issues.add(TPL_SUSPICIOUS, 'high', 'format-field', `Template formats with a field that reads attributes or items ("${clip(x.v, 60)}"); str.format walks attributes without the template engine's checks.`, frag, 'token');
      }
    }
    // Pieces of one name spread over one tag: `x|attr('__glo' ~ y ~ 'bals__')`, `['__cl','ass__']|join`.
    const all = DUNDER.exec(strings.join(''));
    if (all) issues.reach(all[0], frag, 'token', 'builds the string');
  }
  for (const part of textParts) {
    const m = DUNDER.exec(part);
    if (m) issues.add(TPL_SUSPICIOUS, 'medium', `text:${m[0]}`, `Template text contains "${m[0]}" outside any tag; harmless to jinja2, but a loader with different delimiters or a lexer quirk would run it — review.`, part.slice(Math.max(0, m.index - 40), m.index + 60), 'text');
  }
}

// ---------------------------------------------------------------------------------------------------

/** Checks one chat template. Never renders it. */
export function checkTemplate(text: string): TemplateVerdict {
  const issues = new Issues();
  if (text.length > MAX_TEMPLATE_CHARS) {
    issues.add(TPL_UNPARSEABLE, 'medium', 'size', `Template is ${text.length} characters, more than the ${MAX_TEMPLATE_CHARS} checked; it was not inspected.`, text.slice(0, 80), 'template');
    return { issues: [...issues.byKey.values()], parsed: false };
  }
  let parsed = true;
  try {
    const program = parse(tokenize(text)) as unknown as Node;
    new AstChecker(issues).run(program);
  } catch (e) {
    parsed = false;
    const msg = e instanceof Error ? e.message : String(e);
    issues.add(TPL_UNPARSEABLE, 'medium', 'parse', `Template could not be parsed (${clip(msg, 100)}); a loader using jinja2 may still render it, so only a token scan checked it.`, text.slice(0, 120), 'template');
  }
  rawCheck(text, issues);
  const order: Severity[] = ['critical', 'high', 'medium', 'low', 'info'];
  const list = [...issues.byKey.values()].sort((a, b) => order.indexOf(a.severity) - order.indexOf(b.severity));
  return { issues: list, parsed };
}

/**
 * Checks a template found in `entry` and reports its issues under `path` (e.g. `m.gguf!tokenizer.chat_template`).
 * A template the parser cannot read sets the entry's status to `error`: it was not fully understood.
 */
export function reportTemplate(input: InputScan, entry: Entry, text: string, where: { path: string; key: string; offset?: number | null }): TemplateVerdict {
  const verdict = checkTemplate(text);
  for (const issue of verdict.issues) {
    input.report(entry, { ruleId: issue.ruleId, severity: issue.severity, path: where.path, offset: where.offset ?? null, message: issue.message, evidence: { ...issue.evidence, template: where.key } });
  }
  if (!verdict.parsed) entry.row.status = 'error';
  return verdict;
}
