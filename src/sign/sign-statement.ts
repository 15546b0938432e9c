import type crypto from 'node:crypto'
import type { SerializedBundle } from '@sigstore/bundle'
import { PAYLOAD_TYPE } from './payload-type.js'
import { keySigner } from './key-signer.js'
import type { KeyKind } from './keys.js'
import { sigstoreBundle, sigstoreSign } from '../load-cjs.js'

/** Signs statement bytes as a DSSE envelope in a Sigstore bundle, offline, with a local key. */
export async function signWithKey(
  payload: Buffer,
  key: crypto.KeyObject,
  kind: KeyKind,
): Promise<SerializedBundle> {
  // Loaded here: only attest needs the signing stack.
  const { DSSEBundleBuilder } = sigstoreSign()
  const { bundleToJSON } = sigstoreBundle()
  const builder = new DSSEBundleBuilder({ signer: keySigner(key, kind), witnesses: [] })
  const bundle = await builder.create({ data: payload, type: PAYLOAD_TYPE })
  return bundleToJSON(bundle)
}
