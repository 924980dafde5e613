// GGUF containers and Jinja chat templates (in GGUF metadata, tokenizer_config.json, .jinja files).
import type { Rule } from '../model.ts';

const SSTI_REFS = [
  'https://nvd.nist.gov/vuln/detail/CVE-2024-34359',
  'https://github.com/abetlen/llama-cpp-python/security/advisories/GHSA-56xg-wfcc-g829',
  'https://jinja.palletsprojects.com/en/stable/sandbox/',
];

export const ggufRules: Rule[] = [
  {
    id: 'MG-GGUF-001',
    severity: 'high',
    title: 'Malformed GGUF header or tensor data outside the file',
    detects:
      'A GGUF file whose header cannot be read as the format defines it: unsupported version, a string, array or count that declares more bytes than the file holds, an unknown value type, arrays nested too deep, more than 8 dimensions, a truncated header — or tensor infos whose data would lie past the end of the file.',
    why: 'Loaders trust these lengths and extents: llama.cpp has had heap overflows from exactly such values (CVE-2024-21802 and its siblings found by Cisco Talos, CVE-2025-53630), and Ollama an out-of-bounds read from lying tensor dimensions. A file crafted this way attacks the loader, not the model user.',
    fix: 'Do not load the file. Re-download it from the publisher and compare its SHA-256, or re-convert the model from a trusted checkpoint with llama.cpp\'s convert_hf_to_gguf.py.',
    references: ['https://github.com/ggml-org/ggml/blob/master/docs/gguf.md', 'https://nvd.nist.gov/vuln/detail/CVE-2024-21802', 'https://nvd.nist.gov/vuln/detail/CVE-2025-53630'],
  },
  {
    id: 'MG-GGUF-002',
    severity: 'medium',
    title: 'GGUF structure that loaders disagree on or reject',
    detects:
      'Duplicate metadata keys or tensor names, arrays of arrays, invalid UTF-8 in keys or names, a general.alignment that is not a power of two, tensor data offsets that are misaligned or overlap, unknown or removed ggml tensor types, more than 4 dimensions, names of 64 bytes or more, a chat template that is not a string; and (low) bytes after the last tensor.',
    why: 'Where loaders differ (first or last duplicate key wins, one rejects what another reads), a scanner and a loader can see different metadata — the classic way to slip a payload past review. Bytes no loader reads can hide a second file.',
    fix: 'Re-convert the model with a current llama.cpp; if the file comes from a known converter version, report the anomaly upstream. Trailing bytes alone can be accepted after checking what they contain.',
    references: ['https://github.com/ggml-org/ggml/blob/master/docs/gguf.md'],
  },
  {
    id: 'MG-GGUF-003',
    severity: 'info',
    title: 'GGUF model summary',
    detects: 'Every readable GGUF file: version, byte order, architecture, tensor and metadata counts, and which chat templates it carries.',
    why: 'Evidence of what the file is; chat templates listed here were checked by the MG-TPL rules.',
    fix: 'Nothing to fix.',
    references: ['https://github.com/ggml-org/ggml/blob/master/docs/gguf.md'],
  },
  {
    id: 'MG-TPL-001',
    severity: 'critical',
    title: 'Chat template reaches Python internals (server-side template injection)',
    detects:
      'A Jinja chat template that reads a dunder attribute or key (__class__, __globals__, __builtins__, __subclasses__, __init__, __mro__…), a name-mangled private attribute (_TemplateReference__context), or builds such a name from string pieces (concatenation, ~, join, format, escapes) — directly, through the attr filter or map(attribute=…).',
    why: 'Loaders render the chat template on every request. Rendered with an unsandboxed jinja2.Environment (llama-cpp-python < 0.2.72, CVE-2024-34359, and many home-grown servers) these chains reach os.popen and run commands on the serving host.',
    fix: 'Do not serve the model with this template. Replace the template with the original from the base model\'s tokenizer_config.json, and render templates only with jinja2.sandbox.ImmutableSandboxedEnvironment.',
    references: SSTI_REFS,
  },
  {
    id: 'MG-TPL-002',
    severity: 'high',
    title: 'Chat template uses constructs that serve sandbox escapes',
    detects:
      'jinja2 globals that start escapes (lipsum, cycler, joiner, self, config, request), the attr filter, private (underscore) attributes, names such as os, subprocess, popen, getattr, import_module, calls such as system(), open(), eval(), str.format fields that walk attributes, and string escapes that hide identifier characters. At medium: a dunder name in plain template text.',
    why: 'No chat template needs these; they are the building blocks of template injection, and obfuscation exists only to pass review.',
    fix: 'Compare the template with the base model\'s original; remove the construct or replace the template. Accept only after reading the template and rendering it in a sandboxed environment.',
    references: SSTI_REFS,
  },
  {
    id: 'MG-TPL-003',
    severity: 'high',
    title: 'Chat template loads other templates',
    detects: 'An {% import %}, {% from … import %}, {% include %} or {% extends %} statement in a chat template.',
    why: 'A chat template is self-contained. These statements make the loader fetch another template through its environment\'s loader — with a file-system loader, any readable file — and run it.',
    fix: 'Replace the template with a self-contained one (inline what it includes).',
    references: ['https://jinja.palletsprojects.com/en/stable/templates/#import'],
  },
  {
    id: 'MG-TPL-004',
    severity: 'medium',
    title: 'Chat template could not be parsed',
    detects: 'A chat template the Jinja parser cannot read (or one too large to check). Only a token scan inspected it, and the file is marked error.',
    why: 'A loader using Python jinja2 may still render it; what the parser could not read was not fully checked. Real chat templates parse.',
    fix: 'Read the template; if it uses jinja2 features beyond chat-template needs, replace it with the base model\'s original template.',
    references: ['https://huggingface.co/docs/transformers/main/en/chat_templating'],
  },
];
