import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { subjectNameWarnings } from '../attest/subject-names.js'
import { withEveryDifference } from '../twin/every-difference.js'
import { identicalReport } from '../diff/report.js'
import { renderDiffHtml } from './views/diff-html.js'
import { writeFileAtomic } from '../io/atomic-write.js'
import { runBuild, type BuildResult } from '../twin/run-build.js'
import type { BuildRecord } from '../records/build-record.js'
import { toBuildOptions, type BuildFlags, type BuildOptions } from '../config/build-options.js'
import { loadBuildConfig } from '../config/load-config.js'
import { renderDiffText } from './views/diff-text.js'
import { pendingFileOf, runAttest } from '../attest/run-attest.js'
import { EXIT, ReproofError } from '../errors.js'
import {
  canonicalFile,
  checkDistinctFiles,
  checkOutputDir,
  checkOutputFile,
} from '../io/output-path.js'
import { loadPrivateKey } from '../sign/keys.js'
import { builderContext, signingMethod } from './signing-method.js'
import { renderBuildHuman } from './views/build.js'
import { useColor, type Streams } from './output.js'
import { createStatusDisplay } from './views/build-progress.js'
import { IDENTITY_TOKEN_VARIABLES } from '../sign/identity.js'

/** `reproof build`: options in, result printed, exit code out. */
export async function buildAction(
  command: string[],
  flags: BuildFlags,
  streams: Streams,
  signal: AbortSignal,
): Promise<number> {
  const config = await loadBuildConfig(resolveSource(flags))
  const options = withSigningFiles(
    toBuildOptions(flags, command, config, process.cwd(), resolveSource(flags)),
    flags,
  )
  // A record, report, bundle or statement inside the source tree replaces what is there:
  // a source file (`--record src/main.c`, or a config's "record") was overwritten with
  // exit 0. Only a file reproof wrote there before is replaced.
  refuseOverwritingSource('--record', options.record, options.source, RECORD_MARK)
  refuseOverwritingSource('--report', options.report, options.source, REPORT_MARK)
  refuseOverwritingSource('--bundle', flags.bundle, options.source, BUNDLE_MARK)
  refuseOverwritingSource('--statement', flags.statement, options.source, STATEMENT_MARK)
  // Outputs that cannot be written are refused now, not after the build.
  if (options.outDir !== options.source) checkOutputDir('--out-dir', options.outDir)
  for (const [flag, file] of [
    ['--record', options.record],
    ['--report', options.report],
    ['--bundle', flags.bundle],
    ['--statement', flags.statement],
    ['--builder-id', flags.builderId],
  ] as const) {
    if (file !== undefined) checkOutputFile(flag, file)
  }
  checkDistinctFiles(
    [
      { flag: '--record', file: options.record },
      { flag: '--report', file: options.report },
      { flag: '--bundle', file: flags.bundle },
      { flag: '--statement', file: flags.statement },
      // Where a keyless signature waits for its bundle: an input there would be deleted.
      {
        flag: "--bundle's pending signature",
        file: flags.bundle === undefined ? undefined : pendingFileOf(flags.bundle),
      },
    ],
    [{ flag: '--key', file: flags.key }],
  )
  // Signing is into a bundle: a key or an identity given without one would sign nothing,
  // and a build that says nothing of it reads as signed.
  if (flags.bundle === undefined) {
    const given = signingFlagWithoutBundle(flags)
    if (given !== undefined)
      throw new ReproofError(
        'E_USAGE',
        `${given} signs into a bundle: add --bundle <file> (without it nothing would be signed)`,
      )
  }
  // The secrets signing reads from the environment stay out of the build's: a build given
  // the passphrase (or the identity token) could write it into what is signed.
  const secret = options.env.find((e) => signingSecrets(flags).includes(e.name))
  if (secret !== undefined)
    throw new ReproofError(
      'E_USAGE',
      `--env ${secret.name}: the build would be given a secret signing reads (${secret.name === flags.passphraseEnv ? '--passphrase-env' : 'the identity token'}); pass the build what it needs under another name`,
    )
  // Signing options are checked before building: a missing key or identity must not cost a build.
  const attest =
    flags.bundle === undefined ? undefined : planAttestation(flags, flags.bundle, streams)
  const status = options.json ? undefined : createStatusDisplay(streams)
  try {
    const onEvent = status?.onEvent ?? streams.onBuildEvent
    const { result, record } = await runBuild(options, {
      callerEnv: streams.env,
      signal,
      // The key the result is signed with, and the identity token, are covered in the
      // sandbox: the build runs the caller's command, which could read them and ship them.
      secretFiles: secretFilesOf(flags),
      ...(attest?.secretKey === undefined ? {} : { secretKey: attest.secretKey }),
      ...(onEvent === undefined ? {} : { onEvent }),
    })
    status?.stop()
    const signed = await writeEvidence(result, record, options, attest, streams)
    // What was signed, and whether the bundle was verified before it was written: a
    // caller reading the JSON (the Action) must not learn less than the note below says.
    const signature =
      signed === undefined
        ? null
        : {
            bundle: signed.bundle,
            subjects: signed.subjects.length,
            notVerified: signed.notVerified,
          }
    if (options.json) streams.stdout.write(`${JSON.stringify({ ...result, signature }, null, 2)}\n`)
    else streams.stdout.write(renderBuildHuman(result, useColor(streams.stdout, streams.env)))
    if (signed !== undefined)
      streams.stderr.write(
        `reproof: signed ${signed.subjects.length} subject(s) → ${signed.bundle}\n${
          signed.notVerified === null
            ? ''
            : `reproof: note: the bundle was not verified against a trusted root before it was written (${signed.notVerified})\n`
        }`,
      )
    else if (attest !== undefined)
      streams.stderr.write('reproof: not reproducible, so nothing was signed\n')
    if (signed !== undefined)
      for (const warning of subjectNameWarnings(signed.subjects.map((s) => s.name)))
        streams.stderr.write(`reproof: warning: ${warning}\n`)
    return result.reproducible ? EXIT.yes : EXIT.no
  } finally {
    status?.stop()
  }
}

type Attestation = ReturnType<typeof planAttestation>

// How the files reproof writes begin (a record's first field, the report's title, a
// bundle's media type, a statement's type).
const RECORD_MARK = /^\{\s*"recordType": "https:\/\/reproof\.dev\/build-record"/
const REPORT_MARK = /^<!doctype html>\s*<html lang="en">[\s\S]*<title>reproof diff: /
const BUNDLE_MARK = /^\{"mediaType":"application\/vnd\.dev\.sigstore\.bundle/
const STATEMENT_MARK = /^\{"_type":"https:\/\/in-toto\.io\/Statement\/v1"/

/** The files signing reads that the build must not: the key, the identity token. */
function secretFilesOf(flags: BuildFlags): { flag: string; file: string; what: string }[] {
  return [
    ...(flags.key === undefined
      ? []
      : [{ flag: '--key', file: flags.key, what: 'the signing key' }]),
    ...(flags.identityTokenFile === undefined
      ? []
      : [
          {
            flag: '--identity-token-file',
            file: flags.identityTokenFile,
            what: 'the identity token',
          },
        ]),
  ]
}

/**
 * The files signing writes and uses, where no artifact may be copied: the pending
 * signature beside the bundle (an artifact of that name was deleted after it was signed),
 * the key, the trusted root and the identity token (read again after the copy).
 */
function withSigningFiles(options: BuildOptions, flags: BuildFlags): BuildOptions {
  if (flags.bundle === undefined) return options
  return {
    ...options,
    alsoWrites: [
      ...(options.alsoWrites ?? []),
      { flag: "--bundle's pending signature", file: pendingFileOf(flags.bundle) },
    ],
    readsAfter: [
      { flag: '--key', file: flags.key },
      { flag: '--trusted-root', file: flags.trustedRoot },
      { flag: '--identity-token-file', file: flags.identityTokenFile },
    ],
  }
}

function refuseOverwritingSource(
  flag: string,
  file: string | undefined,
  source: string,
  mark: RegExp,
): void {
  if (file === undefined) return
  const relative = path.relative(canonicalFile(source), canonicalFile(file))
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return
  let head: Buffer
  try {
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK)
    try {
      if (!fs.fstatSync(fd).isFile()) return // said by checkOutputFile
      head = Buffer.alloc(1024)
      head = head.subarray(0, fs.readSync(fd, head, 0, head.length, 0))
    } finally {
      fs.closeSync(fd)
    }
  } catch {
    return // not there (or not readable, which checkOutputFile and the write say)
  }
  if (!mark.test(head.toString('utf8')))
    throw new ReproofError(
      'E_USAGE',
      `${flag} ${file}: a file of the source tree that reproof did not write; it would be overwritten (and built from, changed); give a path outside the source, or one of a file reproof wrote`,
      { path: file },
    )
}

/** The variables of the environment signing reads secrets from. */
function signingSecrets(flags: BuildFlags): string[] {
  if (flags.bundle === undefined) return []
  return [
    ...(flags.passphraseEnv === undefined ? [] : [flags.passphraseEnv]),
    ...(flags.keyless === true ? IDENTITY_TOKEN_VARIABLES : []),
  ]
}

/** The first signing flag given, of those that mean something only with --bundle. */
function signingFlagWithoutBundle(flags: BuildFlags): string | undefined {
  const given: [string, unknown][] = [
    ['--key', flags.key],
    ['--keyless', flags.keyless],
    ['--identity-token-file', flags.identityTokenFile],
    ['--passphrase-env', flags.passphraseEnv],
    ['--tsa-url', flags.tsaUrl],
    ['--trusted-root', flags.trustedRoot],
    ['--statement', flags.statement],
    ['--builder-id', flags.builderId],
    ...(flags.signingGiven ?? []).map((name): [string, unknown] => [
      `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
      true,
    ]),
  ]
  return given.find(([, value]) => value !== undefined && value !== false)?.[0]
}

/** What `--bundle` signs with, checked now: the key is read, the identity's source found. */
function planAttestation(flags: BuildFlags, bundle: string, streams: Streams) {
  const signing = signingMethod(
    {
      key: flags.key,
      keyless: flags.keyless,
      passphraseEnv: flags.passphraseEnv,
      identityTokenFile: flags.identityTokenFile,
      fulcioUrl: flags.fulcioUrl,
      rekorUrl: flags.rekorUrl,
      tsaUrl: flags.tsaUrl,
      trustedRoot: flags.trustedRoot,
      timeout: flags.signTimeout ?? '30s',
      retries: flags.signRetries ?? '3',
    },
    streams,
    { timeout: '--sign-timeout', retries: '--sign-retries' },
  )
  // Read now, so that a bad key costs no build, and signed with as read now; its public
  // half finds copies of it in the tree.
  const loaded =
    signing.kind === 'key' ? loadPrivateKey(signing.key, signing.passphrase) : undefined
  const secretKey =
    loaded === undefined ? undefined : { publicKey: crypto.createPublicKey(loaded.key) }
  return {
    secretKey,
    options: {
      bundle,
      signing: signing.kind === 'key' ? { ...signing, loaded } : signing,
      statement: flags.statement,
      sha512From: undefined,
    },
    context: builderContext(flags.builderId, streams.env, flags.keyless === true, 'reproof build'),
  }
}

/**
 * The evidence, before any verdict is printed: the HTML report, the explanation on
 * stderr, then the bundle. Signed and written before anything is acknowledged: a
 * "reproducible" on stdout followed by a failure to sign would be a yes the caller
 * cannot use. Nothing is signed for a build that did not reproduce.
 */
async function writeEvidence(
  result: BuildResult,
  record: BuildRecord,
  options: BuildOptions,
  attest: Attestation | undefined,
  streams: Streams,
) {
  if (options.report !== undefined)
    await writeFileAtomic(
      options.report,
      renderDiffHtml(
        result.explanation ??
          (result.reproducible
            ? identicalReport(result.artifacts.length, ['run A', 'run B'])
            : withEveryDifference(null, result.differences)),
      ),
    )
  if (result.explanation !== null) {
    streams.stderr.write(renderDiffText(result.explanation, useColor(streams.stderr, streams.env)))
  }
  return attest !== undefined && result.reproducible
    ? await runAttest(record, attest.options, attest.context)
    : undefined
}

function resolveSource(flags: BuildFlags): string {
  return path.resolve(process.cwd(), flags.source ?? '.')
}
