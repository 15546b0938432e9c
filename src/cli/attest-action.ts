import { subjectNamesShown, subjectNameWarnings } from '../attest/subject-names.js'
import { ReproofError } from '../errors.js'
import crypto from 'node:crypto'
import { readBuildRecordFile } from '../attest/read-record.js'
import { pendingFileOf, runAttest } from '../attest/run-attest.js'
import { EXIT } from '../errors.js'
import { toDisplayText, toFsPath } from '../file-names.js'
import type { BuildRecord } from '../records/build-record.js'
import { checkDistinctFiles, checkOutputFile } from '../io/output-path.js'
import { generateKeyPair, keyHint, writeKeyPair } from '../sign/keys.js'
import type { AttestFlags, KeygenFlags } from '../config/flags.js'
import type { Streams } from './output.js'
import { builderContext, passphraseFrom, signingMethod } from './signing-method.js'

/** `reproof attest`: the CI identity is read here, at the edge, and passed in. */
export async function attestAction(flags: AttestFlags, streams: Streams): Promise<number> {
  const context = builderContext(
    flags.builderId,
    streams.env,
    flags.keyless === true,
    'reproof attest',
  )
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
      // The artifacts --sha512 reads: a bundle written over one replaced what was signed.
      ...(flags.sha512 === undefined
        ? []
        : shippedFiles(record, flags.sha512).map((file) => ({ flag: '--sha512', file }))),
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
      `signed ${result.subjects.length} subject(s) with ${toDisplayText(result.signer)} → ${toDisplayText(result.bundle)}\n`,
    )
    // Names come from the build: escaped, so that none can rewrite what the terminal
    // shows, and two that would look alike shown apart.
    const shown = subjectNamesShown(result.subjects.map((s) => s.name))
    for (const s of result.subjects)
      streams.stdout.write(`  ${shown(s.name)}  sha256:${s.digest.sha256 ?? ''}\n`)
  }
  for (const warning of subjectNameWarnings(result.subjects.map((s) => s.name)))
    streams.stderr.write(`reproof: warning: ${warning}\n`)
  if (result.notVerified !== null)
    streams.stderr.write(
      `reproof: note: the bundle was not verified against a trusted root before it was written (${result.notVerified}); run reproof verify with the root these services answer to\n`,
    )
  return EXIT.yes
}

/** The shipped artifacts' paths (a name that is not UTF-8 is no path a flag can give). */
function shippedFiles(record: BuildRecord, dir: string): string[] {
  return (record.runs[0]?.manifest ?? []).flatMap((entry) => {
    const file = toFsPath(dir, entry.name)
    return typeof file === 'string' ? [file] : []
  })
}

const MIN_PASSPHRASE = 12

export function keygenAction(flags: KeygenFlags, streams: Streams): number {
  const passphrase = passphraseFrom(flags.passphraseEnv, streams.env)
  // A new key's passphrase is all that stands between a copy of the file and a signature.
  if (passphrase !== undefined && Array.from(passphrase).length < MIN_PASSPHRASE)
    throw new ReproofError(
      'E_USAGE',
      `--passphrase-env ${flags.passphraseEnv ?? ''}: the passphrase is shorter than ${MIN_PASSPHRASE} characters; whoever copies the key file could guess it`,
    )
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
