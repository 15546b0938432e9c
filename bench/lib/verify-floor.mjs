// The floor for `reproof verify`: a bare script that loads @sigstore/verify, verifies the
// same bundle with the same trust, and hashes the same artifact. Nothing else.
import crypto from 'node:crypto'
import fs from 'node:fs'
import { createRequire } from 'node:module'

// Loaded with require, as reproof loads them: imported from ESM, these CommonJS packages
// cost about 40 ms more (Node parses their sources to find named exports).
const require = createRequire(import.meta.url)
const { bundleFromJSON } = require('@sigstore/bundle')
const { PublicKeyDetails, TrustedRoot } = require('@sigstore/protobuf-specs')
const { toSignedEntity, toTrustMaterial, Verifier } = require('@sigstore/verify')

const [artifact, bundleFile, trust] = process.argv.slice(2)
const json = JSON.parse(fs.readFileSync(bundleFile, 'utf8'))
const bundle = bundleFromJSON(json)
let verifier
if (trust.endsWith('.pub')) {
  const key = crypto.createPublicKey(fs.readFileSync(trust))
  const root = TrustedRoot.fromJSON({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [],
    certificateAuthorities: [],
    ctlogs: [],
    timestampAuthorities: [],
  })
  const material = toTrustMaterial(root, {
    [json.verificationMaterial.publicKey.hint]: {
      rawBytes: key.export({ type: 'spki', format: 'der' }),
      keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256,
    },
  })
  verifier = new Verifier(material, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 })
} else {
  verifier = new Verifier(
    toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(fs.readFileSync(trust, 'utf8')))),
  )
}
verifier.verify(toSignedEntity(bundle))
const hash = crypto.createHash('sha256')
hash.update(fs.readFileSync(artifact))
process.stdout.write(`${hash.digest('hex')}\n`)
