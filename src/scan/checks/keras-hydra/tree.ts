// Iterative walk over a parsed JSON/YAML document: no recursion (a hostile document cannot exhaust the
// stack), bounded depth and node count. Yields every node with a readable path for evidence.
export interface TreeNode {
  value: unknown;
  /** `config.layers[2].config` — where the node sits, for evidence. */
  path: string;
  depth: number;
}

export interface TreeWalk {
  nodes: Generator<TreeNode>;
  /** Set when the depth or node bound cut the walk short (the caller reports it). */
  readonly truncated: { depth: boolean; nodes: boolean };
}

export const MAX_TREE_DEPTH = 256;
export const MAX_TREE_NODES = 2_000_000;

export function walkTree(doc: unknown, maxDepth = MAX_TREE_DEPTH, maxNodes = MAX_TREE_NODES): TreeWalk {
  const truncated = { depth: false, nodes: false };
  function* gen(): Generator<TreeNode> {
    const stack: TreeNode[] = [{ value: doc, path: '', depth: 0 }];
    let count = 0;
    while (stack.length) {
      const n = stack.pop()!;
      if (++count > maxNodes) {
        truncated.nodes = true;
        return;
      }
      yield n;
      if (n.value === null || typeof n.value !== 'object') continue;
      if (n.depth >= maxDepth) {
        truncated.depth = true;
        continue;
      }
      // Pushed in reverse so that nodes come out in document order.
      if (Array.isArray(n.value)) {
        for (let i = n.value.length - 1; i >= 0; i--) stack.push({ value: n.value[i], path: `${n.path}[${i}]`, depth: n.depth + 1 });
      } else {
        const keys = Object.keys(n.value);
        for (let i = keys.length - 1; i >= 0; i--) {
          const k = keys[i];
          stack.push({ value: (n.value as Record<string, unknown>)[k], path: n.path ? `${n.path}.${k}` : k, depth: n.depth + 1 });
        }
      }
    }
  }
  return { nodes: gen(), truncated };
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A bounded, single-line preview of a value for messages and evidence. */
export function preview(v: unknown, max = 160): string {
  let s = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  s = s.replace(/\s+/g, ' ');
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
