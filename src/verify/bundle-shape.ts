/**
 * The JSON types of a Sigstore bundle's fields, as the protobuf-specs give them. The
 * library's reader converts what it finds (`Buffer.from` of an array of numbers,
 * `String()` of a list), so a certificate written as `[48, 130, …]` escaped the check
 * that it is strict DER, and one attestation had as many encodings as one cared to
 * write, each with its own bundle digest. A field that is present must have its type;
 * null is absent, as protobuf's JSON mapping says. Unknown fields are left alone.
 */

type Shape =
  | 'string'
  /** An int64: a string of decimal digits, or a safe non-negative integer. */
  | 'int64'
  | { readonly object: Readonly<Record<string, Shape>> }
  | { readonly array: Shape }

const TLOG_ENTRY: Shape = {
  object: {
    logIndex: 'int64',
    logId: { object: { keyId: 'string' } },
    kindVersion: { object: { kind: 'string', version: 'string' } },
    integratedTime: 'int64',
    inclusionPromise: { object: { signedEntryTimestamp: 'string' } },
    inclusionProof: {
      object: {
        logIndex: 'int64',
        rootHash: 'string',
        treeSize: 'int64',
        hashes: { array: 'string' },
        checkpoint: { object: { envelope: 'string' } },
      },
    },
    canonicalizedBody: 'string',
  },
}

const CERTIFICATE: Shape = { object: { rawBytes: 'string' } }

const BUNDLE: Shape = {
  object: {
    mediaType: 'string',
    verificationMaterial: {
      object: {
        publicKey: { object: { hint: 'string' } },
        certificate: CERTIFICATE,
        x509CertificateChain: { object: { certificates: { array: CERTIFICATE } } },
        tlogEntries: { array: TLOG_ENTRY },
        timestampVerificationData: {
          object: { rfc3161Timestamps: { array: { object: { signedTimestamp: 'string' } } } },
        },
      },
    },
    dsseEnvelope: {
      object: {
        payload: 'string',
        payloadType: 'string',
        signatures: { array: { object: { sig: 'string', keyid: 'string' } } },
      },
    },
    messageSignature: {
      object: {
        messageDigest: { object: { algorithm: 'string', digest: 'string' } },
        signature: 'string',
      },
    },
  },
}

/**
 * The first field (as a path such as `verificationMaterial.tlogEntries[0].logIndex`)
 * whose JSON type is not the bundle format's, with the type it should have; undefined
 * when every known field has its type. Pure; depth is the shape's, a few levels.
 */
export function misshapenField(bundle: unknown): { path: string; wanted: string } | undefined {
  return check(bundle, BUNDLE, '')
}

function check(
  value: unknown,
  shape: Shape,
  at: string,
): { path: string; wanted: string } | undefined {
  if (value === null || value === undefined) return undefined
  const wrong = (wanted: string) => ({ path: at === '' ? '(the bundle)' : at, wanted })
  if (shape === 'string') return typeof value === 'string' ? undefined : wrong('a string')
  if (shape === 'int64')
    return (typeof value === 'string' && /^(0|[1-9][0-9]{0,18})$/.test(value)) ||
      (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0)
      ? undefined
      : wrong('a non-negative integer')
  if ('array' in shape) {
    if (!Array.isArray(value)) return wrong('a list')
    for (const [i, item] of (value as unknown[]).entries()) {
      const found = check(item, shape.array, `${at}[${String(i)}]`)
      if (found !== undefined) return found
    }
    return undefined
  }
  if (typeof value !== 'object' || Array.isArray(value)) return wrong('an object')
  for (const [key, inner] of Object.entries(shape.object)) {
    if (!Object.hasOwn(value, key)) continue
    const found = check(
      (value as Record<string, unknown>)[key],
      inner,
      at === '' ? key : `${at}.${key}`,
    )
    if (found !== undefined) return found
  }
  return undefined
}
