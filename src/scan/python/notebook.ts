// Jupyter notebooks: the Python of their code cells, with IPython shell escapes and magics taken out
// (and reported), so the rest parses as Python. Lines map back to (cell, line).

export interface ShellEscape {
  /** 1-based code-cell position among all cells, and line inside the cell. */
  cell: number;
  line: number;
  /** How the command was written: "!", "!!", "= !", "%system", "%%bash"… */
  magic: string;
  command: string;
}

export interface NotebookCode {
  /** The code cells joined, magics replaced by `pass` (same line count). */
  source: string;
  /** Line of `source` → cell and line. */
  locate(line: number): { cell: number; line: number };
  shell: ShellEscape[];
  cells: number;
}

const MAX_CELLS = 20_000;
const SHELL_CELL = new Set(['bash', 'sh', 'zsh', 'script', 'system', 'sx', 'perl', 'ruby', 'python', 'python2', 'python3', 'pypy', 'writefile', 'file']);
const PYTHON_CELL = new Set(['time', 'timeit', 'capture', 'prun', 'debug', 'autoreload']);
const SHELL_LINE = new Set(['system', 'sx', 'sh', 'bash', 'pip', 'conda', 'mamba', 'run', 'load', 'writefile']);
const PYTHON_LINE = new Set(['time', 'timeit', 'prun', 'debug']);

/** The code cells of a parsed notebook (nbformat 4, or 3 with worksheets), or null when it has none. */
export function notebookCode(doc: unknown): NotebookCode | null {
  const nb = doc as { cells?: unknown; worksheets?: Array<{ cells?: unknown }> } | null;
  if (!nb || typeof nb !== 'object') return null;
  const cells: unknown[] = Array.isArray(nb.cells) ? nb.cells : Array.isArray(nb.worksheets) ? nb.worksheets.flatMap((w) => (Array.isArray(w?.cells) ? w.cells : [])) : [];
  const lines: string[] = [];
  const origin: Array<[number, number]> = [];
  const shell: ShellEscape[] = [];
  let index = 0;
  for (const raw of cells.slice(0, MAX_CELLS)) {
    index++;
    const cell = raw as { cell_type?: unknown; source?: unknown; input?: unknown };
    if (!cell || cell.cell_type !== 'code') continue;
    const src = cell.source ?? cell.input;
    const text = typeof src === 'string' ? src : Array.isArray(src) ? src.filter((s) => typeof s === 'string').join('') : '';
    const cellLines = text.split(/\r?\n/);
    const first = cellLines.findIndex((l) => l.trim() !== '');
    const cellMagic = first >= 0 ? /^\s*%%(\w+)(.*)$/.exec(cellLines[first]) : null;
    if (cellMagic) {
      const name = cellMagic[1];
      if (!PYTHON_CELL.has(name)) {
        if (SHELL_CELL.has(name)) shell.push({ cell: index, line: first + 1, magic: `%%${name}`, command: `${cellMagic[2].trim()} ${cellLines.slice(first + 1).join('\n')}`.trim() });
        // Not Python: keep the line count, drop the content.
        cellLines.fill('');
      } else cellLines[first] = '';
    }
    cellLines.forEach((line, i) => {
      lines.push(stripMagic(line, index, i + 1, shell));
      origin.push([index, i + 1]);
    });
  }
  if (origin.length === 0) return null;
  return {
    source: lines.join('\n'),
    locate: (line) => {
      const o = origin[Math.min(Math.max(line - 1, 0), origin.length - 1)];
      return { cell: o[0], line: o[1] };
    },
    shell,
    cells: index,
  };
}

function stripMagic(line: string, cell: number, lineNo: number, shell: ShellEscape[]): string {
  let m = /^(\s*)(!!?)(.*)$/.exec(line);
  if (m) {
    shell.push({ cell, line: lineNo, magic: m[2], command: m[3] });
    return `${m[1]}pass`;
  }
  m = /^(\s*)([\w.]+(?:\s*,\s*[\w.]+)*)\s*=\s*!(.*)$/.exec(line);
  if (m) {
    shell.push({ cell, line: lineNo, magic: '= !', command: m[3] });
    return `${m[1]}${m[2]} = None`;
  }
  m = /^(\s*)%(\w+)(.*)$/.exec(line);
  if (m) {
    const name = m[2];
    if (PYTHON_LINE.has(name)) return `${m[1]}${' '.repeat(name.length + 1)}${m[3]}`;
    if (SHELL_LINE.has(name)) shell.push({ cell, line: lineNo, magic: `%${name}`, command: name === 'pip' || name === 'conda' || name === 'mamba' ? `${name}${m[3]}` : m[3].trim() });
    return `${m[1]}pass`;
  }
  // `obj?` / `??obj`: IPython help, not Python.
  if (/^\s*\?{1,2}[\w.]+\s*$|^\s*[\w.]+\?{1,2}\s*$/.test(line)) return line.replace(/\S.*$/, 'pass');
  return line;
}
