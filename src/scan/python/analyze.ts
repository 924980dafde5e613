// Static analysis of Python source: what the code can do (start processes, reach the network, write
// files, run dynamic or obfuscated code, load native code, read credentials, patch modules) and WHEN it
// does it — while the module is imported (top level, class bodies, decorators, default arguments, and
// functions called from there) or only when a function is called. Nothing is imported or executed.
import type { SyntaxNode } from '@lezer/common';
import { BUILTINS, CODE_SINKS, DECODERS, DYNAMIC_TARGETS, FILE_METHODS, SENSITIVE_MODULES, categorize, normalizeName, type Category } from './catalog.ts';
import { MAX_BRACKET_DEPTH, bracketDepth, parsePython } from './parse.ts';
import { lineOf, lineStarts } from '../secrets/positions.ts';

/** When code runs: on import, only when a function is called, only as a script, or when a notebook is run. */
export type When = 'import' | 'function' | 'main' | 'notebook';

export interface PyBehaviour {
  category: Category;
  /** The resolved callee (`subprocess.run`) or what was touched (`os.environ["HF_TOKEN"]`). */
  name: string;
  line: number;
  /** Character offset in the analysed source. */
  from: number;
  /** The code, on one line, truncated (not redacted: callers redact before showing it). */
  snippet: string;
  when: When;
  /** Enclosing function, qualified (`Model.__init__`), or null at top level. */
  fn: string | null;
  /** Why function code counts as import time: the top-level call that reaches it. */
  via?: string;
  detail?: string;
}

export interface PyImport {
  /** Dotted module as written (without the leading dots of a relative import). */
  module: string;
  /** Leading dots: 0 absolute, 1 `from .x`, 2 `from ..x`. */
  level: number;
  names: string[];
  line: number;
}

export interface PythonAnalysis {
  behaviours: PyBehaviour[];
  imports: PyImport[];
  /** Imported modules that can run commands, reach the network or load code. */
  sensitiveImports: string[];
  /** Lines of syntax the parser could not follow. */
  errorLines: number[];
  /** Deepest syntax tree level, and whether an expression was too deep to resolve. */
  maxDepth: number;
  truncated: boolean;
  /** Why the source was not analysed at all (too deeply nested to parse), if it was not. */
  unparsed?: string;
}

export interface AnalyzeOptions {
  /** Top-level code of a notebook runs when the notebook is run, not on import. */
  notebook?: boolean;
}

const MAX_RESOLVE_DEPTH = 24;
const MAX_CANDIDATES = 8;
const MAX_TAINT_NODES = 4000;
const SNIPPET_CHARS = 120;
const CREDENTIAL_ENV = /(?:^|_)(?:TOKENS?|KEYS?|SECRETS?|PASSWORD|PASSWD|PWD|CREDENTIALS?|AUTH|APIKEY)(?:_|$)/i;
const CREDENTIAL_PATH =
  /(?:^|[/~\\])\.(?:ssh[/\\](?:id_|authorized_keys|known_hosts)|aws[/\\]credentials|netrc|git-credentials|docker[/\\]config\.json|kube[/\\]config|pgpass|pypirc)|huggingface[/\\](?:token|stored_tokens)|^\/etc\/(?:shadow|passwd|sudoers)$|Login Data$/;
const ENV_GETTERS = new Set(['os.getenv', 'os.getenvb', 'os.environ.get', 'os.environ.setdefault', 'os.environ.pop', 'os.environ.__getitem__']);
const ENV_DUMPS = new Set(['os.environ.copy', 'os.environ.items', 'os.environ.values']);

interface Frame {
  kind: 'function' | 'class' | 'lambda' | 'main';
  name: string;
  from: number;
  to: number;
  type: string;
}

export function analyzePython(text: string, opts: AnalyzeOptions = {}): PythonAnalysis {
  const brackets = bracketDepth(text);
  if (brackets > MAX_BRACKET_DEPTH) return unparsed(`brackets nested ${brackets} deep (Python accepts ${MAX_BRACKET_DEPTH})`, brackets);
  let parsed;
  try {
    parsed = parsePython(text);
  } catch (e) {
    // The tree builder recurses; pathological shapes the bracket count misses can exhaust the stack.
    if (e instanceof RangeError) return unparsed('the parser ran out of stack', 0);
    throw e;
  }
  return new PythonAnalyzer(parsed.source, opts).run(parsed.tree.topNode, parsed.errors);
}

function unparsed(reason: string, depth: number): PythonAnalysis {
  return { behaviours: [], imports: [], sensitiveImports: [], errorLines: [], maxDepth: depth, truncated: false, unparsed: reason };
}

class PythonAnalyzer {
  private readonly lines: number[];
  private readonly bindings = new Map<string, string[]>();
  private readonly taint = new Map<string, string>();
  private readonly localDefs = new Set<string>();
  /** Names assigned, bound as parameters or loop/with targets: a local `commands` list is not the `commands` module. */
  private readonly shadowed = new Set<string>();
  private readonly starModules: string[] = [];
  /** Names assigned a long string literal (an embedded blob). */
  private readonly blobs = new Set<string>();
  private readonly defs = new Set<string>();
  private readonly edges: Array<{ from: string; to: string; line: number }> = [];
  private readonly behaviours: PyBehaviour[] = [];
  private readonly imports: PyImport[] = [];
  private frames: Frame[] = [];
  private truncated = false;

  constructor(
    private readonly source: string,
    private readonly opts: AnalyzeOptions,
  ) {
    this.lines = lineStarts(source);
  }

  run(top: SyntaxNode, errors: number[]): PythonAnalysis {
    // Pass 1: imports, definitions and simple aliases (`sp = subprocess`, `payload = b64decode(...)`), in source order.
    top.cursor().iterate((ref) => {
      if (ref.name === 'ImportStatement') this.importStatement(ref.node);
      else if (ref.name === 'FunctionDefinition' || ref.name === 'ClassDefinition') {
        const name = ref.node.getChild('VariableName');
        if (name) this.localDefs.add(this.text(name));
      } else if (ref.name === 'AssignStatement') {
        this.alias(ref.node);
        this.collectTargets(ref.node);
      } else if (ref.name === 'ParamList' || ref.name === 'ForStatement' || ref.name === 'WithStatement' || ref.name === 'TryStatement' || /Comprehension/.test(ref.name)) {
        this.collectTargets(ref.node);
      }
    });
    // Pass 2: behaviours with their execution context.
    let depth = 0;
    let maxDepth = 0;
    top.cursor().iterate(
      (ref) => {
        depth++;
        if (depth > maxDepth) maxDepth = depth;
        switch (ref.name) {
          case 'Body':
            this.enterBody(ref.node);
            break;
          case 'LambdaExpression':
            this.push('lambda', 'lambda', ref.node);
            break;
          case 'CallExpression':
            this.call(ref.node);
            break;
          case 'AssignStatement':
            this.assignTargets(ref.node);
            break;
          case 'MemberExpression':
            this.environRead(ref.node);
            break;
          case 'String':
            this.credentialPath(ref.node);
            break;
          case 'Decorator':
            this.decorator(ref.node);
            break;
        }
      },
      (ref) => {
        depth--;
        const top = this.frames[this.frames.length - 1];
        if (top && top.from === ref.from && top.to === ref.to && top.type === ref.name) this.frames.pop();
      },
    );
    this.propagateImportTime();
    return {
      behaviours: this.behaviours,
      imports: this.imports,
      sensitiveImports: this.sensitiveImports(),
      errorLines: [...new Set(errors.map((e) => lineOf(this.lines, e)))],
      maxDepth,
      truncated: this.truncated,
    };
  }

  // ---- context -------------------------------------------------------------------------------

  private enterBody(body: SyntaxNode): void {
    const parent = body.parent;
    if (!parent) return;
    const name = parent.getChild('VariableName');
    if (parent.name === 'FunctionDefinition') this.push('function', name ? this.text(name) : '?', body);
    else if (parent.name === 'ClassDefinition') this.push('class', name ? this.text(name) : '?', body);
    else if (parent.name === 'IfStatement' && parent.getChild('Body')?.from === body.from && this.isMainGuard(parent)) this.push('main', '__main__', body);
  }

  private push(kind: Frame['kind'], name: string, node: SyntaxNode): void {
    this.frames.push({ kind, name, from: node.from, to: node.to, type: node.name });
    if (kind === 'function') this.defs.add(this.qualifiedFunction()!);
  }

  /** `if __name__ == "__main__":` runs only when the file is executed as a script. */
  private isMainGuard(ifStatement: SyntaxNode): boolean {
    const cond = ifStatement.firstChild?.nextSibling;
    return !!cond && /^__name__\s*==\s*(['"])__main__\1$|^(['"])__main__\2\s*==\s*__name__$/.test(this.text(cond));
  }

  private get when(): When {
    if (this.frames.some((f) => f.kind === 'function' || f.kind === 'lambda')) return 'function';
    if (this.frames.some((f) => f.kind === 'main')) return 'main';
    return this.opts.notebook ? 'notebook' : 'import';
  }

  /** `Model.forward`, `outer.inner`; null outside functions. */
  private qualifiedFunction(): string | null {
    let last = -1;
    for (let i = this.frames.length - 1; i >= 0; i--) {
      if (this.frames[i].kind === 'function') {
        last = i;
        break;
      }
    }
    if (last < 0) return null;
    return this.frames
      .slice(0, last + 1)
      .filter((f) => f.kind === 'function' || f.kind === 'class')
      .map((f) => f.name)
      .join('.');
  }

  private currentClass(): string | null {
    for (let i = this.frames.length - 1; i >= 0; i--) if (this.frames[i].kind === 'class') return this.frames[i].name;
    return null;
  }

  /** A call from the current context to a function or class of this file, by name. */
  private edge(target: string, node: SyntaxNode): void {
    const from = this.qualifiedFunction() ?? (this.when === 'main' || this.frames.some((f) => f.kind === 'lambda') ? null : '<module>');
    if (from) this.edges.push({ from, to: target, line: this.lineAt(node.from) });
  }

  /** Function code reached from top-level calls (and decorators) runs at import time too. */
  private propagateImportTime(): void {
    const reachedBy = new Map<string, number>();
    const queue: Array<[string, number]> = [['<module>', 0]];
    const resolve = (caller: string, name: string): string[] => {
      const out: string[] = [];
      for (const cand of [`${caller}.${name}`, name, `${name}.__init__`, `${name}.__new__`, `${name}.__post_init__`]) if (this.defs.has(cand)) out.push(cand);
      return out;
    };
    const byCaller = new Map<string, Array<{ to: string; line: number }>>();
    for (const e of this.edges) {
      const list = byCaller.get(e.from);
      if (list) list.push(e);
      else byCaller.set(e.from, [e]);
    }
    while (queue.length > 0) {
      const [fn, line] = queue.pop()!;
      for (const e of byCaller.get(fn) ?? []) {
        for (const target of resolve(fn, e.to)) {
          if (reachedBy.has(target)) continue;
          const startLine = fn === '<module>' ? e.line : line;
          reachedBy.set(target, startLine);
          queue.push([target, startLine]);
        }
      }
    }
    const top: When = this.opts.notebook ? 'notebook' : 'import';
    for (const b of this.behaviours) {
      if (b.when !== 'function' || !b.fn || !reachedBy.has(b.fn)) continue;
      b.when = top;
      b.via = `${b.fn}() is called from top-level code at line ${reachedBy.get(b.fn)}`;
    }
  }

  // ---- imports and aliases -------------------------------------------------------------------

  private importStatement(node: SyntaxNode): void {
    const parts: Array<{ name: string; text: string }> = [];
    for (let c = node.firstChild; c; c = c.nextSibling) parts.push({ name: c.name, text: this.text(c) });
    const line = this.lineAt(node.from);
    const readDotted = (i: number): [string, number] => {
      let s = '';
      while (i < parts.length && (parts[i].name === 'VariableName' || parts[i].name === '.')) s += parts[i++].text;
      return [s, i];
    };
    if (parts[0]?.name === 'from') {
      let i = 1;
      let level = 0;
      while (parts[i]?.name === '.' || parts[i]?.text === '...') level += parts[i++].text.length;
      const [module, j] = readDotted(i);
      i = j + 1; // past `import`
      const names: string[] = [];
      while (i < parts.length) {
        const p = parts[i];
        if (p.name === 'VariableName') {
          const name = p.text;
          let local = name;
          if (parts[i + 1]?.name === 'as' && parts[i + 2]?.name === 'VariableName') {
            local = parts[i + 2].text;
            i += 2;
          }
          names.push(name);
          if (level === 0) this.bind(local, `${module}.${name}`);
        } else if (p.name === '*') {
          names.push('*');
          if (level === 0) this.starModules.push(normalizeName(module));
        }
        i++;
      }
      this.imports.push({ module, level, names, line });
      return;
    }
    let i = 1;
    while (i < parts.length) {
      const [module, j] = readDotted(i);
      i = j;
      if (!module) {
        i++;
        continue;
      }
      if (parts[i]?.name === 'as' && parts[i + 1]?.name === 'VariableName') {
        this.bind(parts[i + 1].text, module);
        i += 2;
      } else this.bind(module.split('.')[0], module.split('.')[0]);
      this.imports.push({ module, level: 0, names: [], line });
    }
  }

  private bind(local: string, qualified: string): void {
    const list = this.bindings.get(local) ?? [];
    const name = normalizeName(qualified);
    if (!list.includes(name) && list.length < MAX_CANDIDATES) list.push(name);
    this.bindings.set(local, list);
  }

  /** `name = <resolvable expression>` binds an alias; `name = <decoded or downloaded data>` taints it. */
  private alias(node: SyntaxNode): void {
    const kids = children(node);
    if (kids.length !== 3 || kids[0].name !== 'VariableName' || kids[1].name !== 'AssignOp') return;
    const target = this.text(kids[0]);
    const value = kids[2];
    if (this.literal(value) !== null && value.to - value.from >= 8) this.blobs.add(target);
    const tainted = this.taintOf(value);
    if (tainted) this.taint.set(target, tainted);
    if (value.name === 'VariableName' || value.name === 'MemberExpression' || value.name === 'CallExpression') {
      for (const q of this.qualify(value)) if (q !== target && !q.endsWith('()')) this.bind(target, q);
    }
  }

  private collectTargets(node: SyntaxNode): void {
    let mode: 'assign' | 'for' | 'as' | 'param' | null = node.name === 'AssignStatement' ? 'assign' : node.name === 'ParamList' ? 'param' : null;
    let prev = '';
    for (let c = node.firstChild; c; c = c.nextSibling) {
      if (c.name === 'for') mode = 'for';
      else if (c.name === 'in' && mode === 'for') mode = null;
      else if (c.name === 'as') mode = 'as';
      else if (c.name === 'AssignOp' && mode === 'assign' && !node.getChildren('AssignOp').some((a) => a.from > c!.from)) mode = null;
      else if (c.name === 'VariableName' && mode && !(mode === 'param' && prev === 'AssignOp')) {
        this.shadowed.add(this.text(c));
        if (mode === 'as') mode = null;
      }
      prev = c.name;
    }
  }

  private sensitiveImports(): string[] {
    const out = new Set<string>();
    for (const imp of this.imports) {
      if (imp.level > 0) continue;
      const candidates = [imp.module, ...imp.names.map((n) => `${imp.module}.${n}`)];
      for (const c of candidates) {
        const parts = normalizeName(c).split('.');
        for (let k = parts.length; k > 0; k--) {
          const m = parts.slice(0, k).join('.');
          if (SENSITIVE_MODULES.has(m)) out.add(m);
        }
      }
    }
    return [...out].sort();
  }

  // ---- name resolution -----------------------------------------------------------------------

  /** Every fully qualified name an expression may denote (bounded). */
  private qualify(node: SyntaxNode, depth = 0): string[] {
    if (depth > MAX_RESOLVE_DEPTH) {
      this.truncated = true;
      return [];
    }
    switch (node.name) {
      case 'VariableName': {
        const t = this.text(node);
        const bound = this.bindings.get(t);
        if (bound) return bound;
        if (this.localDefs.has(t)) return [t];
        if (this.shadowed.has(t)) return [`@${t}`];
        if (BUILTINS.has(t)) return [`builtins.${t}`];
        const star = this.starModules.map((m) => `${m}.${t}`).find((n) => categorize(n) !== null);
        return [star ?? normalizeName(t)];
      }
      case 'ParenthesizedExpression': {
        const inner = node.firstChild?.nextSibling;
        return inner ? this.qualify(inner, depth + 1) : [];
      }
      case 'MemberExpression': {
        const obj = node.firstChild;
        if (!obj) return [];
        const prop = node.getChild('PropertyName');
        const base = this.qualify(obj, depth + 1);
        if (prop) return base.map((b) => normalizeName(`${b}.${this.text(prop)}`));
        const key = this.subscriptKey(node);
        if (key === null) return [];
        const out: string[] = [];
        for (const b of base) {
          if (b === 'builtins' || b === 'builtins.__dict__') out.push(`builtins.${key}`);
          else if (b.endsWith('.__dict__')) out.push(normalizeName(`${b.slice(0, -9)}.${key}`));
          else if (b === 'globals()') out.push(...this.qualifyName(key));
          else if (b === 'sys.modules') out.push(normalizeName(key));
        }
        return out;
      }
      case 'CallExpression': {
        const callee = node.firstChild;
        if (!callee) return [];
        const names = this.qualify(callee, depth + 1);
        const args = this.args(node);
        const out: string[] = [];
        for (const n of names) {
          const a0 = args.positional[0];
          const lit1 = args.positional[1] ? this.literal(args.positional[1]) : null;
          if (n === 'builtins.getattr' && a0) out.push(...this.qualify(a0, depth + 1).map((b) => normalizeName(`${b}.${lit1 ?? '?'}`)));
          else if ((n === 'builtins.__import__' || n === 'importlib.import_module') && a0) {
            const mod = this.literal(a0);
            if (mod) out.push(normalizeName(mod));
          } else if (n === 'get_ipython') out.push('get_ipython()');
          else if (n === 'builtins.globals') out.push('globals()');
          else if (n === 'builtins.vars' && a0) out.push(...this.qualify(a0, depth + 1).map((b) => `${b}.__dict__`));
          else out.push(`${n}()`);
        }
        return out.slice(0, MAX_CANDIDATES);
      }
      default:
        return [];
    }
  }

  private qualifyName(name: string): string[] {
    return this.bindings.get(name) ?? (this.shadowed.has(name) ? [`@${name}`] : BUILTINS.has(name) ? [`builtins.${name}`] : [normalizeName(name)]);
  }

  private subscriptKey(member: SyntaxNode): string | null {
    const open = member.getChild('[');
    const key = open?.nextSibling;
    return key ? this.literal(key) : null;
  }

  /** The value of a plain string literal (not an f-string), or null. */
  private literal(node: SyntaxNode): string | null {
    if (node.name === 'ContinuedString') {
      let s = '';
      for (let c = node.firstChild; c; c = c.nextSibling) {
        const v = this.literal(c);
        if (v === null) return null;
        s += v;
      }
      return s;
    }
    if (node.name !== 'String') return null;
    const m = /^([rRbBuU]{0,2})('''|"""|'|")([\s\S]*)\2$/.exec(this.text(node));
    if (!m) return null;
    return /r/i.test(m[1]) ? m[3] : m[3].replace(/\\(['"\\])/g, '$1');
  }

  private args(call: SyntaxNode): { positional: SyntaxNode[]; keywords: Map<string, SyntaxNode> } {
    const positional: SyntaxNode[] = [];
    const keywords = new Map<string, SyntaxNode>();
    const list = call.getChild('ArgList');
    if (!list) return { positional, keywords };
    const kids = children(list).filter((c) => c.name !== '(' && c.name !== ')');
    let star = false;
    for (let i = 0; i < kids.length; i++) {
      const k = kids[i];
      if (k.name === ',') continue;
      if (k.name === '*' || k.name === '**') {
        star = true;
        continue;
      }
      if (k.name === 'VariableName' && kids[i + 1]?.name === 'AssignOp' && kids[i + 2]) {
        keywords.set(this.text(k), kids[i + 2]);
        i += 2;
      } else if (!star) positional.push(k);
      star = false;
    }
    return { positional, keywords };
  }

  /** Whether an expression carries decoded or downloaded data: "decoded by base64.b64decode", … */
  private taintOf(node: SyntaxNode): string | null {
    let found: string | null = null;
    let budget = MAX_TAINT_NODES;
    node.cursor().iterate((ref) => {
      if (found || --budget < 0) return false;
      if (ref.name === 'VariableName') {
        const t = this.taint.get(this.text(ref.node));
        if (t) found = t;
      } else if (ref.name === 'CallExpression') {
        const callee = ref.node.firstChild;
        for (const n of callee ? this.qualify(callee) : []) {
          // Decoding data read at run time is ordinary; decoding a blob written into the file is hiding code.
          if (DECODERS(n) && (n === 'builtins.chr' || this.embedsLiteral(ref.node))) found = `decoded by ${n}`;
          else if (categorize(n) === 'network') found = `downloaded with ${n}`;
          if (found) break;
        }
      }
      return undefined;
    });
    return found;
  }

  /** A call whose arguments contain a string literal of some length, or a name assigned from one. */
  private embedsLiteral(call: SyntaxNode): boolean {
    const list = call.getChild('ArgList');
    if (!list) return false;
    let found = false;
    let budget = MAX_TAINT_NODES;
    list.cursor().iterate((ref) => {
      if (found || --budget < 0) return false;
      if ((ref.name === 'String' && ref.to - ref.from >= 8) || (ref.name === 'VariableName' && this.blobs.has(this.text(ref.node)))) found = true;
      return undefined;
    });
    return found;
  }

  // ---- behaviours ----------------------------------------------------------------------------

  private call(node: SyntaxNode): void {
    const callee = node.firstChild;
    if (!callee) return;
    if (callee.name === 'VariableName') this.edge(this.text(callee), node);
    else if (callee.name === 'MemberExpression') {
      const obj = callee.firstChild;
      const prop = callee.getChild('PropertyName');
      const cls = this.currentClass();
      if (obj && prop && cls && /^(self|cls)$/.test(this.text(obj))) this.edge(`${cls}.${this.text(prop)}`, node);
    }
    if (this.judge(node, this.qualify(callee))) return;
    const method = callee.name === 'MemberExpression' ? callee.getChild('PropertyName') : null;
    if (method && FILE_METHODS.has(this.text(method))) this.add('file', `.${this.text(method)}()`, node);
    else if (method && this.text(method) === 'dlopen') this.add('native', '.dlopen()', node);
  }

  /** `@name` / `@a.b(args)`: the decorator expression is evaluated and called when the definition runs. */
  private decorator(node: SyntaxNode): void {
    const parts = children(node).filter((c) => c.name === 'VariableName').map((c) => this.text(c));
    if (parts.length === 0) return;
    if (parts.length === 1) this.edge(parts[0], node);
    const rest = parts.slice(1).join('.');
    this.judge(node, this.qualifyName(parts[0]).map((b) => normalizeName(rest ? `${b}.${rest}` : b)));
  }

  /** Reports the first candidate name that is a known capability. */
  private judge(node: SyntaxNode, names: string[]): boolean {
    const args = this.args(node);
    for (const name of names) {
      if (this.special(node, name, args)) return true;
      const category = categorize(name);
      if (category) {
        this.add(category, name, node);
        return true;
      }
    }
    return false;
  }

  /** Calls judged by their arguments. Returns true when the call was handled. */
  private special(node: SyntaxNode, name: string, args: { positional: SyntaxNode[]; keywords: Map<string, SyntaxNode> }): boolean {
    const a0 = args.positional[0];
    const kw = (k: string) => args.keywords.get(k);
    if (CODE_SINKS.has(name) && a0) {
      const t = this.taintOf(a0);
      if (t) {
        this.add('obfuscated', name, node, t);
        return true;
      }
    }
    if ((name === 'builtins.__import__' || name === 'importlib.import_module') && a0 && this.literal(a0) !== null) {
      // A constant module name is an ordinary import written differently; what is done with it is judged at its calls.
      this.imports.push({ module: this.literal(a0)!, level: 0, names: [], line: this.lineAt(node.from) });
      return true;
    }
    if (name === 'builtins.open') {
      const modeNode = args.positional[1] ?? kw('mode');
      const mode = modeNode ? this.literal(modeNode) : null;
      if (mode && /[wax+]/.test(mode)) this.add('file', 'open', node, `mode "${mode}"`);
      return true;
    }
    if (name === 'builtins.getattr') {
      const attr = args.positional[1];
      if (a0 && attr && this.literal(attr) === null && this.qualify(a0).some((q) => DYNAMIC_TARGETS.has(q))) {
        this.add('dynamic', 'getattr', node, 'attribute name computed at run time');
      }
      return true;
    }
    if (name === 'builtins.setattr' || name === 'builtins.delattr') {
      if (a0 && this.qualify(a0).some((q) => q === 'builtins' || q === 'sys.modules')) this.add('hijack', name, node, 'patches builtins');
      return true;
    }
    if (name === 'torch.load' && /^True$/.test(this.textOf(kw('weights_only')))) return true;
    if (name === 'numpy.load' && !/^True$/.test(this.textOf(kw('allow_pickle')))) return true;
    if (name === 'yaml.load' || name === 'yaml.load_all') {
      const loader = this.textOf(kw('Loader') ?? args.positional[1]);
      if (/(?:^|\.)(?:Unsafe|Full)?Loader$/.test(loader) && !/Safe|Base/.test(loader)) this.add('dynamic', name, node, `Loader=${loader}`);
      return true;
    }
    if (ENV_GETTERS.has(name)) {
      const key = a0 ? this.literal(a0) : null;
      if (key && CREDENTIAL_ENV.test(key)) this.add('env', `os.environ["${key}"]`, node);
      return true;
    }
    if (ENV_DUMPS.has(name) || (args.positional.some((a) => this.qualify(a).includes('os.environ')) && categorize(name) === null)) {
      this.add('env', 'os.environ', node, 'reads the whole environment');
      return true;
    }
    return false;
  }

  /** Assignments that replace modules, import hooks or builtins. */
  private assignTargets(node: SyntaxNode): void {
    for (let c = node.firstChild; c && c.name !== 'AssignOp'; c = c.nextSibling) {
      if (c.name !== 'MemberExpression') continue;
      const obj = c.firstChild;
      const names = this.qualify(c);
      const objNames = obj ? this.qualify(obj) : [];
      if (objNames.includes('sys.modules') && c.getChild('[')) this.add('hijack', 'sys.modules[…] =', node, 'replaces a module for every later import');
      else if (names.some((n) => /^sys\.(?:modules|meta_path|path_hooks)$/.test(n))) this.add('hijack', `${names[0]} =`, node, 'replaces the import machinery');
      else if (names.some((n) => n.startsWith('builtins.'))) this.add('hijack', `${names.find((n) => n.startsWith('builtins.'))} =`, node, 'patches builtins');
    }
  }

  /** `os.environ["HF_TOKEN"]` read (not written). */
  private environRead(node: SyntaxNode): void {
    if (!node.getChild('[')) return;
    if (node.parent?.name === 'AssignStatement' && node.nextSibling?.name === 'AssignOp') return;
    const obj = node.firstChild;
    if (!obj || !this.qualify(obj).includes('os.environ')) return;
    const key = this.subscriptKey(node);
    if (key && CREDENTIAL_ENV.test(key)) this.add('env', `os.environ["${key}"]`, node);
  }

  private credentialPath(node: SyntaxNode): void {
    if (node.parent?.name === 'ExpressionStatement') return; // docstrings
    const v = this.literal(node);
    if (v && v.length < 300 && CREDENTIAL_PATH.test(v)) this.add('credentials', v, node, 'names a credential file');
  }

  private add(category: Category, name: string, node: SyntaxNode, detail?: string): void {
    const b: PyBehaviour = { category, name, line: this.lineAt(node.from), from: node.from, snippet: this.snippet(node), when: this.when, fn: this.qualifiedFunction() };
    if (detail) b.detail = detail;
    this.behaviours.push(b);
  }

  // ---- text helpers --------------------------------------------------------------------------

  private text(node: SyntaxNode): string {
    return this.source.slice(node.from, node.to);
  }

  private textOf(node: SyntaxNode | undefined): string {
    return node ? this.text(node) : '';
  }

  private snippet(node: SyntaxNode): string {
    const raw = this.source.slice(node.from, Math.min(node.to, node.from + SNIPPET_CHARS * 4)).replace(/\s+/g, ' ').trim();
    return raw.length > SNIPPET_CHARS ? `${raw.slice(0, SNIPPET_CHARS - 1)}…` : raw;
  }

  private lineAt(offset: number): number {
    return lineOf(this.lines, offset);
  }
}

function children(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = node.firstChild; c; c = c.nextSibling) out.push(c);
  return out;
}
