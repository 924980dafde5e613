// DSSE pre-authentication encoding, and the bug-for-bug variant model_signing v0.2 signed.
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** `DSSEv1 <len(type)> <type> <len(payload)> <payload>` with byte lengths. */
export function pae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

/** Python's `repr()` of a bytes object: `b'…'` with escapes, quote chosen as CPython does. */
export function pythonBytesRepr(data: Uint8Array): string {
  const hasSingle = data.includes(0x27);
  const hasDouble = data.includes(0x22);
  const quote = hasSingle && !hasDouble ? 0x22 : 0x27;
  let out = 'b' + String.fromCharCode(quote);
  for (const b of data) {
    if (b === quote || b === 0x5c) out += '\\' + String.fromCharCode(b);
    else if (b === 0x09) out += '\\t';
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x0d) out += '\\r';
    else if (b < 0x20 || b >= 0x7f) out += '\\x' + b.toString(16).padStart(2, '0');
    else out += String.fromCharCode(b);
  }
  return out + String.fromCharCode(quote);
}

/**
 * The encoding model_signing v0.2 actually signed: capital `DSSEV1`, and the payload written as
 * its Python repr while the length stays the raw payload's byte count.
 */
export function legacyPae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEV1 ${type.length} `), type, Buffer.from(` ${payload.length} `), Buffer.from(pythonBytesRepr(payload), 'latin1')]);
}
