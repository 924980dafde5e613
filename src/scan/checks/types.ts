// Checks over text entries (configs, code, templates, notebooks, cards). The text analyzer decodes and
// parses a file once, then runs every check whose `applies` accepts it.
import type { Entry, InputScan } from '../context.ts';

export type TextKind = 'json' | 'yaml' | 'python' | 'notebook' | 'jinja' | 'markdown' | 'text';

export interface TextContext {
  entry: Entry;
  input: InputScan;
  /** The entry's base name (`config.json`), lower-case. */
  name: string;
  kind: TextKind;
  text: string;
  /** Parsed document for json/yaml/notebook kinds (undefined when parsing failed). */
  doc?: unknown;
}

export interface TextCheck {
  id: string;
  applies(ctx: TextContext): boolean;
  run(ctx: TextContext): void;
}
