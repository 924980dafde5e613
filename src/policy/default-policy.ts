// The built-in default policy: the same text as modelgate.policy.yaml at the repository root
// (test/policy/load.test.ts keeps them equal), so a bundle without that file still has a policy.
export const DEFAULT_POLICY_YAML = `# modelgate release policy (the built-in default; \`modelgate policy check\` validates a copy you edit).
#
# A gate looks up the cell for a model's risk tier and the target environment. The cell's requirements
# are \`defaults\`, then \`tiers.<tier>.default\`, then \`tiers.<tier>.<environment>\`, merged key by key:
# mappings merge, lists and values replace, and \`null\` removes a requirement.
# Missing evidence fails the gate (fail closed); evidence older than maxEvidenceAge fails it too.
version: 1

environments: [dev, staging, production]

# Roles approvals and waivers may name (the registry maps people to roles).
roles: [security, ml-lead, legal, owner]

defaults:
  maxEvidenceAge: 30d
  scan:
    maxSeverity: low                 # any finding above this fails, unless its rule is waived
    waivableRules: [MG-RC-001]       # trust_remote_code models may be accepted by a waiver
    allowedFormats: [safetensors, gguf, onnx]
    remoteCode: false                # MG-RC-* findings (auto_map / trust_remote_code) fail
  license:
    allowed: [approved]
  waivers:
    maxDuration: 14d
    grantors: [security]
    requirements: [scan.formats, scan.remote-code, vulnerabilities, "eval:*"]

tiers:
  low:
    default:
      scan: { maxSeverity: medium, allowedFormats: null }
      license: { allowed: [approved, review] }
      approvals: { quorum: 1 }
    dev:
      maxEvidenceAge: 90d
      scan: { remoteCode: true }
      approvals: { quorum: 0 }
    production:
      license: { allowed: [approved] }
      vulnerabilities: { maxCritical: 0 }

  medium:
    default:
      scan: { maxSeverity: medium }
      approvals: { quorum: 1, roles: [ml-lead] }
    dev:
      scan: { remoteCode: true, allowedFormats: null }
      license: { allowed: [approved, review] }
      approvals: { quorum: 0, roles: [] }
    production:
      scan: { maxSeverity: low }
      signature: { required: true }
      vulnerabilities: { maxCritical: 0, maxHigh: 5 }

  high:
    default:
      signature: { required: true }
      vulnerabilities: { maxCritical: 0, maxHigh: 0 }
      approvals: { quorum: 2, roles: [security, ml-lead] }
      evals:
        - { suite: harmful-refusal, minPassRate: 0.95 }
    dev:
      signature: null
      vulnerabilities: null
      approvals: { quorum: 1, roles: [ml-lead] }
      evals: []
    staging:
      evals:
        - { suite: harmful-refusal, minPassRate: 0.9 }
    production:
      maxEvidenceAge: 14d
      scan: { allowedFormats: [safetensors, gguf] }
      waivers: { maxDuration: 7d }

  critical:
    default:
      maxEvidenceAge: 14d
      scan: { maxSeverity: info, waivableRules: [], allowedFormats: [safetensors] }
      signature: { required: true }
      vulnerabilities: { maxCritical: 0, maxHigh: 0 }
      approvals: { quorum: 3, roles: [security, ml-lead, legal] }
      evals:
        - { suite: harmful-refusal, minPassRate: 0.99 }
        - { suite: jailbreak, minPassRate: 0.97 }
      waivers: { maxDuration: 3d, grantors: [security], requirements: [vulnerabilities] }
    dev:
      maxEvidenceAge: 30d
      approvals: { quorum: 1, roles: [security] }
      evals: []
    production:
      maxEvidenceAge: 7d
      waivers: null
`;
