// A printable preview of a marshalled Python code object (what Keras stores for Lambda layers): the
// string records it contains — names, constants, file and function names. The bytes are scanned for
// marshal string records; nothing is unmarshalled, so no code object is ever built.

// marshal type codes of string records (the 0x80 FLAG_REF bit may be set on any of them)
const SHORT = new Set([0x7a /* z short ascii */, 0x5a /* Z short ascii interned */]);
const LONG = new Set([0x61 /* a ascii */, 0x41 /* A ascii interned */, 0x75 /* u unicode */, 0x74 /* t interned */]);

const printable = (b: Uint8Array) => b.every((c) => c >= 0x20 && c < 0x7f);

export function marshalStrings(code: Uint8Array, maxStrings = 40, maxLen = 200): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  let i = 0;
  while (i < code.length && out.length < maxStrings) {
    const t = code[i] & 0x7f;
    let start = -1;
    let n = 0;
    if (SHORT.has(t) && i + 1 < code.length) {
      n = code[i + 1];
      start = i + 2;
    } else if (LONG.has(t) && i + 4 < code.length) {
      n = (code[i + 1] | (code[i + 2] << 8) | (code[i + 3] << 16) | (code[i + 4] << 24)) >>> 0;
      start = i + 5;
    }
    if (start >= 0 && n > 0 && n <= 1 << 16 && start + n <= code.length) {
      const bytes = code.subarray(start, start + n);
      if (t === 0x75 ? isUtf8Text(bytes) : printable(bytes)) {
        const s = Buffer.from(bytes).toString('utf8');
        const shown = s.length > maxLen ? `${s.slice(0, maxLen)}…` : s;
        if (!seen.has(shown)) {
          seen.add(shown);
          out.push(shown);
        }
        i = start + n;
        continue;
      }
    }
    i++;
  }
  return out;
}

function isUtf8Text(b: Uint8Array): boolean {
  try {
    const s = new TextDecoder('utf-8', { fatal: true }).decode(b);
    return !/[\x00-\x08\x0e-\x1f]/.test(s);
  } catch {
    return false;
  }
}

/** Names in a code object's strings that no innocent Lambda layer needs. */
export const DANGEROUS_CODE_NAMES = /^(os|posix|nt|subprocess|system|popen|Popen|spawn\w*|exec\w*|eval|compile|__import__|import_module|importlib|builtins|__builtins__|getattr|setattr|globals|open|socket|urlopen|urllib\w*|requests|http\w*|shutil|rmtree|remove|unlink|pickle|loads|marshal|ctypes|pty|environ|check_output|getoutput|b64decode)$/;
