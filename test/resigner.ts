import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { makeTemp } from './helpers.js'

/** The statement of one of reproof's bundles, as far as the tests edit it. */
export interface Provenance {
  _type: unknown
  subject: { name: string; digest: Record<string, string> }[]
  predicateType: string
  predicate: {
    buildDefinition: {
      externalParameters: { command: string[]; source: { subdirectory?: string } }
      internalParameters: { environment: object[]; isolation: object }
    }
    runDetails: { byproducts: { name: string; content?: string; digest?: object }[] }
  }
}

/**
 * A signer of its own (trusted by `pub`), who signs the statement of `bundle` again
 * after `edit`: a trusted signer turned hostile, or a text written by hand (`raw`).
 */
export async function resigner(bundle: string) {
  const { signWithKey } = await import('../src/sign/sign-statement.js')
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const dir = makeTemp()
  const pub = path.join(dir, 'signer.pub')
  fs.writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }))
  const original = JSON.parse(
    Buffer.from(
      (JSON.parse(fs.readFileSync(bundle, 'utf8')) as { dsseEnvelope: { payload: string } })
        .dsseEnvelope.payload,
      'base64',
    ).toString('utf8'),
  ) as Provenance
  const resigned = async (
    name: string,
    edit: (s: Provenance) => void,
    raw?: (text: string) => string,
  ) => {
    const statement = structuredClone(original)
    edit(statement)
    const text = JSON.stringify(statement)
    const file = path.join(dir, name)
    const signed = await signWithKey(
      Buffer.from(raw === undefined ? text : raw(text)),
      privateKey,
      'ecdsa-p256',
    )
    fs.writeFileSync(file, JSON.stringify(signed))
    return file
  }
  return { pub, resigned }
}
