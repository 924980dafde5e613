// Positions in decoded text: 1-based lines, and UTF-8 byte offsets (findings point into the bytes).

export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

export function lineOf(starts: number[], index: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= index) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

/** Character offset → UTF-8 byte offset; identity for ASCII text, incremental for ascending queries. */
export function byteOffsets(text: string): (index: number) => number {
  // eslint-disable-next-line no-control-regex
  if (!/[^\x00-\x7f]/.test(text)) return (i) => i;
  let atChar = 0;
  let atByte = 0;
  return (i) => {
    if (i < atChar) {
      atChar = 0;
      atByte = 0;
    }
    atByte += Buffer.byteLength(text.slice(atChar, i), 'utf8');
    atChar = i;
    return atByte;
  };
}
