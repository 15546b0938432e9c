import type crypto from 'node:crypto'
import type { SerializedBundle } from '@sigstore/bundle'
import { PAYLOAD_TYPE } from '../attest/statement.js'
import { keySigner } from './key-signer.js'
import type { KeyKind } from './keys.js'

/** Signs statement bytes as a DSSE envelope in a Sigstore bundle, offline, with a local key. */
export async function signWithKey(
  payload: Buffer,
  key: crypto.KeyObject,
  kind: KeyKind,
): Promise<SerializedBundle> {
  // Loaded here: the signing stack costs 150 ms to import and only attest needs it.
  const { DSSEBundleBuilder } = await import('@sigstore/sign')
  const { bundleToJSON } = await import('@sigstore/bundle')
  const builder = new DSSEBundleBuilder({ signer: keySigner(key, kind), witnesses: [] })
  const bundle = await builder.create({ data: payload, type: PAYLOAD_TYPE })
  return bundleToJSON(bundle)
}
