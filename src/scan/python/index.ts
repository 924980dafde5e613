// Static analysis of Python and notebooks: parse (never import or run), find capabilities and when
// they run, grade them into findings.
export { analyzePython, type PythonAnalysis, type PyBehaviour, type PyImport, type When } from './analyze.ts';
export { gradePython, gradeShell, type PyFinding } from './grade.ts';
export { notebookCode, type NotebookCode, type ShellEscape } from './notebook.ts';
export type { Category } from './catalog.ts';
