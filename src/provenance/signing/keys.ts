// EC keys as OMS uses them: P-256/384/521 paired with SHA-256/384/512; key hints; PEM reading.
import { createHash, createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ModelgateError } from '../../scan/model.ts';

export type DigestName = 'sha256' | 'sha384' | 'sha512';

const CURVES: Record<string, { hash: DigestName; details: string; label: string }> = {
  prime256v1: { hash: 'sha256', details: 'PKIX_ECDSA_P256_SHA_256', label: 'P-256' },
  secp384r1: { hash: 'sha384', details: 'PKIX_ECDSA_P384_SHA_384', label: 'P-384' },
  secp521r1: { hash: 'sha512', details: 'PKIX_ECDSA_P521_SHA_512', label: 'P-521' },
};

/** The curve's OMS pairing, or null for keys OMS does not sign with (RSA, Ed25519, other curves). */
export function ecParams(key: KeyObject): { hash: DigestName; details: string; label: string } | null {
  if (key.asymmetricKeyType !== 'ec') return null;
  return CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''] ?? null;
}

export function describeKey(key: KeyObject): string {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return curve ? `${key.asymmetricKeyType} ${curve}` : String(key.asymmetricKeyType);
}

/** OMS key hint: lowercase hex SHA-256 of the SPKI public key in PEM (64-column base64). */
export function publicKeyHint(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(pub.export({ type: 'spki', format: 'pem' }) as string).digest('hex');
}

export function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new ModelgateError('UNREADABLE', `${what} ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Every PEM block of a type in a text (certtool files carry human-readable text before them). */
export function pemBlocks(text: string, label: string): string[] {
  const re = new RegExp(`-----BEGIN ${label}-----[\\s\\S]*?-----END ${label}-----`, 'g');
  return [...text.matchAll(re)].map((m) => `${m[0]}\n`);
}

export function loadPublicKey(path: string): KeyObject {
  const text = readText(path, 'public key');
  try {
    const certs = pemBlocks(text, 'CERTIFICATE');
    return certs.length ? new X509Certificate(certs[0]!).publicKey : createPublicKey(text);
  } catch (e) {
    throw new ModelgateError('BAD_KEY', `public key ${path}: not a PEM public key or certificate (${(e as Error).message})`);
  }
}

export function loadPrivateKey(path: string): KeyObject {
  const text = readText(path, 'private key');
  let key: KeyObject;
  try {
    key = createPrivateKey(text);
  } catch (e) {
    throw new ModelgateError('BAD_KEY', `private key ${path}: not an unencrypted PEM private key (${(e as Error).message})`);
  }
  if (!ecParams(key)) throw new ModelgateError('BAD_KEY', `private key ${path}: ${describeKey(key)} is not supported; OMS signs with EC P-256, P-384 or P-521`);
  return key;
}

export function loadCertificates(path: string, what: string): X509Certificate[] {
  const text = readText(path, what);
  const blocks = pemBlocks(text, 'CERTIFICATE');
  if (!blocks.length) throw new ModelgateError('BAD_CERT', `${what} ${path}: no PEM certificate found`);
  try {
    return blocks.map((b) => new X509Certificate(b));
  } catch (e) {
    throw new ModelgateError('BAD_CERT', `${what} ${path}: unreadable certificate (${(e as Error).message})`);
  }
}
