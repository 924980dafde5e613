// Parses Python with @lezer/python, working around constructs this grammar version rejects although
// CPython accepts them (a float written "1.", a bare `yield`, form feeds). The fixes keep every offset,
// so lines and columns still point into the original file. Nothing is executed or imported.
import { parser } from '@lezer/python';
import type { Tree } from '@lezer/common';

export interface ParsedPython {
  /** The source after the offset-preserving fixes (what the tree describes). */
  source: string;
  tree: Tree;
  /** Offsets of parse errors that remain after the fixes. */
  errors: number[];
}

/** CPython refuses more than 200 nested brackets; deeper input also overflows the parser's tree builder. */
export const MAX_BRACKET_DEPTH = 200;

export function parsePython(text: string): ParsedPython {
  let source = text.includes('\f') ? text.replace(/\f/g, ' ') : text;
  let tree = parser.parse(source);
  let errors = errorOffsets(tree);
  if (errors.length > 0) {
    const fixed = rewriteOutsideStrings(source, tree);
    if (fixed !== source) {
      source = fixed;
      tree = parser.parse(source);
      errors = errorOffsets(tree);
    }
  }
  return { source, tree, errors };
}

function errorOffsets(tree: Tree): number[] {
  const out: number[] = [];
  const c = tree.cursor();
  do {
    if (c.type.isError && out[out.length - 1] !== c.from) out.push(c.from);
  } while (c.next());
  return out;
}

// "1." → "1 " (the value's type does not matter here); a bare `yield` → "(0,0)", an expression of the same length.
const TRAILING_DOT_FLOAT = /(?<![\w.])(\d[\d_]*)\.(?![\w.])/g;
const BARE_YIELD = /(?<![\w.])yield(?=[ \t]*(?:#|\r?\n|$|[)\]};,]))/g;

/** Same-length rewrites of what the grammar rejects, applied only to code (never inside strings or comments). */
function rewriteOutsideStrings(source: string, tree: Tree): string {
  const skip: Array<[number, number]> = [];
  const c = tree.cursor();
  do {
    if (c.name === 'String' || c.name === 'FormatString' || c.name === 'Comment') skip.push([c.from, c.to]);
  } while (c.next());
  const inSkip = (at: number) => {
    let lo = 0;
    let hi = skip.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (skip[mid][1] <= at) lo = mid + 1;
      else if (skip[mid][0] > at) hi = mid - 1;
      else return true;
    }
    return false;
  };
  return source
    .replace(TRAILING_DOT_FLOAT, (m, digits: string, at: number) => (inSkip(at) ? m : `${digits} `))
    .replace(BARE_YIELD, (m, at: number) => (inSkip(at) ? m : '(0,0)'));
}

/** Deepest bracket nesting outside strings and comments (a cheap lexical pass, run before parsing). */
export function bracketDepth(text: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 40 || c === 91 || c === 123) {
      if (++depth > max) max = depth;
    } else if (c === 41 || c === 93 || c === 125) {
      if (depth > 0) depth--;
    } else if (c === 35) {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl;
    } else if (c === 34 || c === 39) {
      const q = text[i];
      const triple = text.startsWith(q + q + q, i);
      const close = triple ? q + q + q : q;
      let j = i + close.length;
      while (j < text.length && !text.startsWith(close, j)) {
        if (text[j] === '\\') j++;
        else if (!triple && text[j] === '\n') break;
        j++;
      }
      i = j + close.length - 1;
    }
  }
  return max;
}
