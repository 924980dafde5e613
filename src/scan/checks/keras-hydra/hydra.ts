// Hydra/OmegaConf configs (NeMo's model_config.yaml, Lightning hparams, any YAML/JSON): a `_target_`
// is imported and called by hydra.utils.instantiate() with the sibling keys as arguments — NeMo does so
// when it restores a .nemo file (CVE-2025-23304). OmegaConf interpolations run resolvers: `oc.env` reads
// the environment, and custom resolvers run whatever the loading code registered (often Python eval).
import type { TextContext } from '../types.ts';
import type { Severity } from '../../model.ts';
import { judgeImport } from '../../pickle-policy.ts';
import { isRecord, preview, walkTree } from './tree.ts';

/**
 * Namespaces whose classes model code instantiates from configs, chosen so that nothing in them loads
 * another artifact or runs commands by being constructed: NeMo's model collections and core, PyTorch
 * modules/optimizers/data utilities, torchvision/torchaudio transforms, torchmetrics, Lightning
 * callbacks/loggers/trainer, timm models/optimizers, Hugging Face transformers and diffusers classes
 * (loader methods are graded separately below). Deny-list hits inside them still win.
 */
const ALLOWED_TARGET = [
  /^nemo\.(collections|core|lightning)\./,
  /^torch\.(nn|optim|utils\.data|distributions)\./,
  /^torch\.nn\.[A-Z]\w*$/,
  /^(torchvision|torchaudio)\.(transforms|models)\./,
  /^torchmetrics\./,
  /^(lightning\.pytorch|pytorch_lightning)\.(callbacks|loggers|trainer|strategies|profilers|plugins\.precision)\./,
  /^(lightning\.pytorch|pytorch_lightning)\.Trainer$/,
  /^timm\.(models|optim|scheduler|layers|data)\./,
  /^transformers\./,
  /^diffusers\.([A-Z]\w*$|models\.|schedulers\.)/,
  /^builtins\.(dict|list|tuple|set|frozenset|int|float|str|bool)$/,
];

/** Methods that load another artifact (a checkpoint, a hub repository) when called as a target. */
const LOADER_METHOD = /\.(restore_from|load_from_checkpoint|from_pretrained|from_config|load|load_state_dict|from_file|hf_hub_download|snapshot_download)$/;

/** Hydra's own locate/call helpers resolve any dotted path (a second, hidden target). */
const HYDRA_INDIRECT = /^hydra\.(utils|_internal)\b/;

/** OmegaConf and Hydra built-in resolvers that only select or reshape config values. */
const SAFE_RESOLVERS = new Set(['oc.create', 'oc.decode', 'oc.deprecated', 'oc.select', 'oc.dict.keys', 'oc.dict.values', 'hydra', 'now']);
const ENV_RESOLVERS = new Set(['oc.env', 'env']);
const CODE_RESOLVERS = /^(eval|exec|python|py|pyeval|call|sh|shell|bash|cmd|system|subprocess|import|lambda|run|os\.\w+)$/i;
const RESOLVER = /\$\{\s*([A-Za-z_][\w.\-]*)\s*:([^}]*)\}?/g;

/** Argument values shown in messages, except under names that usually hold credentials. */
const SECRET_KEY = /token|secret|passw|api_?key|access_?key|auth|credential|private/i;

const HYDRA_KEYS = ['_partial_', '_args_', '_recursive_', '_convert_', '_call_'];

function classifyTarget(target: string, node: Record<string, unknown>): { severity: Severity; why: string; matched: string | null } | null {
  const dot = target.lastIndexOf('.');
  const module = dot > 0 ? target.slice(0, dot) : 'builtins';
  const name = dot > 0 ? target.slice(dot + 1) : target;
  if (HYDRA_INDIRECT.test(target)) {
    // get_class/get_method/get_object(path=…) resolve one more dotted path: judge that path instead.
    const path = typeof node.path === 'string' ? node.path.trim() : null;
    if (path && /\.(get_class|get_method|get_object)$/.test(target) && /^[A-Za-z_][\w.]*$/.test(path) && !HYDRA_INDIRECT.test(path)) {
      const inner = classifyTarget(path, {});
      return inner && { ...inner, why: `resolves ${path}: ${inner.why}` };
    }
    return { severity: 'critical', why: 'Hydra helper that resolves and calls a path chosen at load time', matched: target };
  }
  const v = judgeImport(module, name);
  if (v.kind === 'denied') return { severity: 'critical', why: v.reason, matched: v.matched };
  if (LOADER_METHOD.test(target)) {
    const remote = node.trust_remote_code === true || node.trust_remote_code === 'true';
    if (/\.from_pretrained$|\.from_config$/.test(target) && !remote) return null;
    return { severity: 'high', why: remote ? 'loads a hub repository with trust_remote_code (runs its Python code)' : 'loads another checkpoint or file while instantiating', matched: null };
  }
  if (ALLOWED_TARGET.some((re) => re.test(target))) return null;
  return { severity: 'high', why: 'outside the namespaces model configs normally instantiate', matched: null };
}

export function checkHydra(ctx: TextContext): void {
  const { input, entry } = ctx;
  const allowed: string[] = [];
  const walk = walkTree(ctx.doc);
  for (const { value: n, path } of walk.nodes) {
    if (typeof n === 'string') {
      if (n.includes('${')) checkInterpolations(ctx, n, path);
      continue;
    }
    if (!isRecord(n) || !('_target_' in n)) continue;
    const where = path || '(top level)';
    const target = n._target_;
    const keys = HYDRA_KEYS.filter((k) => k in n);
    if (typeof target !== 'string' || !/^[A-Za-z_][\w.]*$/.test(target.trim())) {
      input.report(entry, { ruleId: 'MG-HYDRA-002', message: `_target_ at ${where} is not a plain dotted path (${preview(target, 80)}); Hydra resolves it at load time.`, evidence: { at: where, target: preview(target, 200) } });
      continue;
    }
    const t = target.trim();
    const c = classifyTarget(t, n);
    if (c === null) {
      allowed.push(t);
      continue;
    }
    const args = Object.keys(n).filter((k) => k !== '_target_').slice(0, 12);
    input.report(entry, {
      ruleId: c.severity === 'critical' ? 'MG-HYDRA-001' : 'MG-HYDRA-002',
      severity: c.severity,
      message: `_target_ at ${where} makes hydra.utils.instantiate() call ${t}(${args.map((k) => `${k}=${SECRET_KEY.test(k) ? '***' : preview(n[k], 40)}`).join(', ')}): ${c.why}.`,
      evidence: { at: where, target: t, matched: c.matched, arguments: args, hydraKeys: keys },
    });
  }
  if (allowed.length) {
    const uniq = [...new Set(allowed)];
    input.report(entry, { ruleId: 'MG-HYDRA-003', message: `Instantiates ${uniq.length} allowlisted _target_ class${uniq.length > 1 ? 'es' : ''} (${preview(uniq.join(', '), 200)}).`, evidence: { targets: uniq.slice(0, 200) } });
  }
  if (walk.truncated.depth || walk.truncated.nodes) {
    entry.row.status = 'error';
    input.report(entry, { ruleId: 'MG-LIM-001', message: 'Config nested deeper or larger than the scanner walks; the rest was not inspected.', evidence: { limit: walk.truncated.depth ? 'depth' : 'nodes' } });
  }
}

function checkInterpolations(ctx: TextContext, s: string, path: string): void {
  for (const m of s.matchAll(RESOLVER)) {
    const resolver = m[1];
    const arg = m[2].trim();
    // Shell parameter expansion (${VAR:-default}) in scripts embedded in YAML is not OmegaConf.
    if (SAFE_RESOLVERS.has(resolver) || /^[-=?+]/.test(m[2])) continue;
    if (ENV_RESOLVERS.has(resolver)) {
      // Only the variable's name is shown, never a default value (it may be a secret).
      const variable = arg.split(',')[0].trim();
      ctx.input.report(ctx.entry, { ruleId: 'MG-HYDRA-004', message: `${path} reads the environment variable ${variable} through \${${resolver}:…}.`, evidence: { at: path, resolver, variable } });
      continue;
    }
    const code = CODE_RESOLVERS.test(resolver);
    ctx.input.report(ctx.entry, {
      ruleId: 'MG-HYDRA-005',
      severity: code ? 'high' : 'low',
      message: code
        ? `${path} is computed by the custom resolver "${resolver}" (${preview(m[0], 120)}); projects register such resolvers as Python eval, so loading runs the expression.`
        : `${path} uses the custom resolver "${resolver}", which runs whatever function the loading code registered under that name.`,
      evidence: { at: path, resolver, expression: preview(m[0], 200) },
    });
  }
}

/** PyYAML python tags (`!!python/object/apply:os.system`) construct objects under unsafe/full loaders. */
const PY_TAG = /!!?python\/(object\/apply|object\/new|object|name|module)[:\s]\s*([A-Za-z_][\w.]*)?/g;

export function checkYamlPythonTags(ctx: TextContext): void {
  for (const m of ctx.text.matchAll(PY_TAG)) {
    const target = m[2] ?? '';
    const dot = target.lastIndexOf('.');
    const v = target ? judgeImport(dot > 0 ? target.slice(0, dot) : 'builtins', dot > 0 ? target.slice(dot + 1) : target) : null;
    const line = ctx.text.slice(0, m.index).split('\n').length;
    ctx.input.report(ctx.entry, {
      ruleId: 'MG-HYDRA-006',
      severity: v?.kind === 'denied' || m[1] === 'object/apply' || m[1] === 'object/new' ? 'critical' : 'high',
      offset: Buffer.byteLength(ctx.text.slice(0, m.index)),
      message: `Line ${line} has the PyYAML tag !!python/${m[1]}${target ? `:${target}` : ''}; yaml.unsafe_load (and old full_load) imports and calls it while parsing.`,
      evidence: { line, tag: `python/${m[1]}`, target: target || null },
    });
  }
}
