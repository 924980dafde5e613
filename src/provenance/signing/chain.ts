// X.509 chain building for OMS certificate signatures: leaf → bundle intermediates → a caller's trust anchor.
import type { X509Certificate } from 'node:crypto';
import { VerificationError } from './errors.ts';

const CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
const MAX_DEPTH = 8;

function issued(issuer: X509Certificate, child: X509Certificate): boolean {
  return child.checkIssued(issuer) && child.verify(issuer.publicKey);
}

function checkValidity(c: X509Certificate, at: Date, role: string): void {
  if (at < new Date(c.validFrom) || at > new Date(c.validTo)) throw new VerificationError('CHAIN_INVALID', `${role} certificate "${c.subject}" is not valid at ${at.toISOString()} (valid ${c.validFrom} → ${c.validTo})`);
}

/**
 * Verifies that the leaf chains to one of the anchors through the bundle's intermediates (each a CA,
 * each in its validity window at `at`), and that the leaf may sign code. Returns the anchor's subject.
 */
export function verifyCertificateChain(chain: X509Certificate[], anchors: X509Certificate[], at = new Date()): string {
  const [leaf, ...intermediates] = chain;
  if (!leaf) throw new VerificationError('CHAIN_INVALID', 'the bundle carries no signing certificate');
  checkValidity(leaf, at, 'signing');
  const eku = leaf.keyUsage;
  if (Array.isArray(eku) && eku.length > 0 && !eku.includes(CODE_SIGNING)) throw new VerificationError('CHAIN_INVALID', `signing certificate "${leaf.subject}" is not valid for code signing (extended key usage ${eku.join(', ')})`);
  let current = leaf;
  for (let depth = 0; depth <= MAX_DEPTH; depth++) {
    const anchor = anchors.find((a) => issued(a, current) || a.fingerprint256 === current.fingerprint256);
    if (anchor) {
      checkValidity(anchor, at, 'trust anchor');
      return anchor.subject;
    }
    const next = intermediates.find((c) => c !== current && c.ca && issued(c, current));
    if (!next) {
      throw new VerificationError('CHAIN_INVALID', `certificate chain validation failed: "${current.subject}" (issued by "${current.issuer}") does not chain to a trusted certificate (${anchors.map((a) => `"${a.subject}"`).join(', ')})`);
    }
    checkValidity(next, at, 'intermediate');
    current = next;
  }
  throw new VerificationError('CHAIN_INVALID', `certificate chain is longer than ${MAX_DEPTH}`);
}
