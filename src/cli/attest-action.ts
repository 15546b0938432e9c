import crypto from 'node:crypto'
import { readBuildRecordFile } from '../attest/read-record.js'
import { pendingFileOf, runAttest } from '../attest/run-attest.js'
import { EXIT } from '../errors.js'
import { checkDistinctFiles, checkOutputFile } from '../io/output-path.js'
import { generateKeyPair, keyHint, writeKeyPair } from '../sign/keys.js'
import type { AttestFlags, KeygenFlags } from '../config/flags.js'
import type { Streams } from './output.js'
import { builderContext, passphraseFrom, signingMethod } from './signing-method.js'

/** `reproof attest`: the CI identity is read here, at the edge, and passed in. */
export async function attestAction(flags: AttestFlags, streams: Streams): Promise<number> {
  const context = builderContext(flags.builderId, streams.env, flags.keyless === true)
  const record = readBuildRecordFile(flags.record)
  checkOutputFile('--bundle', flags.bundle)
  if (flags.statement !== undefined) checkOutputFile('--statement', flags.statement)
  checkDistinctFiles(
    [
      { flag: '--bundle', file: flags.bundle },
      { flag: '--statement', file: flags.statement },
      // Where a keyless signature waits for its bundle: an input there would be deleted.
      {
        flag: "--bundle's pending signature",
        file: pendingFileOf(flags.bundle),
      },
    ],
    [
      { flag: '--record', file: flags.record },
      { flag: '--key', file: flags.key },
    ],
  )
  const result = await runAttest(
    record,
    {
      bundle: flags.bundle,
      signing: signingMethod(flags, streams),
      statement: flags.statement,
      sha512From: flags.sha512,
    },
    context,
  )
  if (flags.json === true) {
    streams.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
  } else {
    streams.stdout.write(
      `signed ${result.subjects.length} subject(s) with ${result.signer} → ${result.bundle}\n`,
    )
    for (const s of result.subjects)
      streams.stdout.write(`  ${s.name}  sha256:${s.digest.sha256 ?? ''}\n`)
  }
  return EXIT.yes
}

export function keygenAction(flags: KeygenFlags, streams: Streams): number {
  const passphrase = passphraseFrom(flags.passphraseEnv, streams.env)
  const pair = generateKeyPair(passphrase)
  const files = writeKeyPair(flags.out, pair)
  if (flags.json === true) {
    const summary = {
      privateKey: files.privateFile,
      publicKey: files.publicFile,
      algorithm: 'ecdsa-p256-sha256',
      encrypted: passphrase !== undefined,
      // What a bundle signed with it names the key by.
      keyHint: keyHint(crypto.createPublicKey(pair.publicPem)),
    }
    streams.stdout.write(`${JSON.stringify(summary, null, 2)}\n`)
  } else
    streams.stdout.write(
      `wrote ${files.privateFile} (private, mode 0600) and ${files.publicFile}\n`,
    )
  return EXIT.yes
}
