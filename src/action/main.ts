import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { main } from '../cli/main.js'
import { describeIsolation, describeVariations, excludedWarning } from '../cli/views/build.js'
import { code, fittedDiffMarkdown } from '../cli/views/diff-markdown.js'
import { toDisplayText } from '../file-names.js'
import type { BuildResult } from '../twin/run-build.js'
import type { DiffReport } from '../diff/report.js'
import { EXIT, exitCodeFor, isReproofError } from '../errors.js'
import { maskCommand } from '../sign/secrets.js'
import { inInputTerms, input, toArgv, type ActionArgv } from './inputs.js'
import { uploadAttestation } from './attestation-upload.js'
import { refuseConfigLoosening } from './config-loosening.js'
import { withLedgerToken } from './ledger-token.js'
import {
  annotate,
  buildLog,
  endGroup,
  group,
  inert,
  inertLines,
  summaryText as markdownText,
  type Log,
} from './workflow-log.js'

type Env = Readonly<Record<string, string | undefined>>
type Mode = ActionArgv['mode']

/**
 * The GitHub Action: inputs become the command line of the same reproof command, its
 * JSON result becomes step outputs, a job summary and annotations, and its progress a
 * log in groups. The exit code is the CLI's.
 *
 * 1. Parse: inputs into a command line (a bad input is exit 2, said in its own words).
 * 2. Run the command (its decisions and writes are the CLI's own).
 * 3. Acknowledge: outputs, then the summary (always, whatever the outcome, under the
 *    runner's size limit), then the verdict as an annotation.
 */
export async function runAction(env: Env, log: Log = process.stdout): Promise<number> {
  // Before anything can print it: a token handed to the step is masked in the whole log.
  // (A token fetched from the runner's OIDC endpoint is masked by the signing code.)
  log.write(maskCommand(env.SIGSTORE_ID_TOKEN ?? '', env))
  let parsed: ActionArgv
  try {
    parsed = withDefaultReport(toArgv(env), env)
    if (parsed.mode === 'build') await refuseConfigLoosening(env, process.cwd())
  } catch (err) {
    const message = isReproofError(err) ? err.message : String(err)
    annotate(log, 'error', message, 'reproof: bad input')
    writeSummary(env, [`## reproof: bad input (exit ${EXIT.usage})`, '', markdownText(message), ''])
    return EXIT.usage
  }
  const { mode, argv, inputOf, notices } = parsed
  // Secrets the inputs name: masked before anything runs.
  const passphraseVar = argValue(argv, '--passphrase-env')
  if (passphraseVar !== undefined) log.write(maskCommand(env[passphraseVar] ?? '', env))
  const token = mode === 'gate' ? input(env, 'ledger-token') : undefined
  const ledger = token === undefined ? undefined : withLedgerToken(env, token)
  for (const secret of ledger?.secrets ?? []) log.write(maskCommand(secret, env))
  if (parsed.upload) log.write(maskCommand(input(env, 'github-token') ?? '', env))
  for (const notice of notices) annotate(log, 'notice', notice, `reproof ${mode}`)
  // A URL input may carry a token (`https://x-access-token:…@host/o/r.git`, a ledger's):
  // masked for whatever prints it, and left out of the command as logged, as the CLI
  // leaves it out of what it says.
  for (const secret of urlSecrets(argv)) log.write(maskCommand(secret, env))
  group(log, `reproof ${mode}: the command`)
  log.write(`reproof ${inert(argv.map((word) => quote(withoutUrlSecrets(word))).join(' '))}\n`)
  endGroup(log)

  // 2. Run.
  let stdout = ''
  let stderr = ''
  const progress = mode === 'build' ? buildLog(log) : undefined
  // The CLI's messages quote artifacts and build logs: no command may come of them, so
  // they are passed on by whole lines (a command cut between two writes is still seen).
  const errLines = inertLines(process.stderr)
  // A report already at the path is not this run's: only one written now is named.
  const reportBefore = fileStamp(argValue(argv, '--report'))
  let code = await main(['node', 'reproof', ...argv], {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: {
      write: (s: string) => {
        stderr += s
        return errLines.write(s)
      },
    },
    env: ledger?.env ?? env,
    // Straight to the runner: on the CLI's stderr the command would be made inert, and
    // the token it names printed in clear.
    onSecret: (secret: string) => log.write(maskCommand(secret, env)),
    // A second signal (a cancelled job's SIGTERM after its SIGINT) ends the process at
    // once: the summary and the annotation are written first, as for any other end.
    onHardStop: (stopped: number) => {
      progress?.close()
      errLines.end()
      const line =
        stopped === EXIT.ambiguous
          ? 'stopped by a second signal while writing: whether it was written is unknown, and a retry is safe'
          : 'stopped by a second signal before it finished: nothing was signed or recorded'
      acknowledgeFailure(env, log, mode, stopped, line)
    },
    ...(progress === undefined ? {} : { onBuildEvent: progress.onEvent }),
  })
  progress?.close()
  errLines.end()

  // 3. Acknowledge.
  const result = parse(stdout)
  // An error is JSON too under --json ({ error }): it has no result to report.
  const failed =
    result === undefined || (typeof result === 'object' && result !== null && 'error' in result)
  // The summary speaks of the Action's inputs, as the annotations do, not the CLI's flags.
  const terms = (text: string): string => inInputTerms(text, inputOf)
  const report = failed ? undefined : REPORTS[mode](result, terms)
  // Success is a result that says yes, nothing else: an exit 0 with no result (commander
  // printing help) or with a result that says no is not passed on as a green step.
  if (code === EXIT.yes && report?.yes !== true) code = failed ? EXIT.failed : EXIT.no
  const outputs = report?.outputs ?? {}
  // The bundle this build wrote (only a yes is signed), or the one verify and gate checked.
  const bundle = argValue(argv, '--bundle')
  const present = !failed && bundle !== undefined && fs.existsSync(bundle)
  // Only beside a yes: a step keyed on `bundle-path` reads it as success, and a bundle
  // verify rejected or the gate refused is no bundle to pass on.
  const signed = present && code === EXIT.yes
  if (signed) outputs['bundle-path'] = bundle
  if (mode === 'build' && !failed) outputs.signed = String(signed)
  // Stored with GitHub's attestations before anything is acknowledged: an output that
  // names an attestation is one GitHub holds.
  let uploadFailure: string | undefined
  if (mode === 'build' && signed && parsed.upload) {
    // Ctrl-C or a cancelled job stops the upload, not the step: the outputs and the
    // summary below are still written, saying the outcome is unknown.
    const stop = new AbortController()
    const onSignal = (): void => {
      stop.abort()
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    try {
      const stored = await uploadAttestation(bundle, env, input(env, 'github-token') ?? '', {
        timeoutMs: 30_000,
        retries: 3,
        signal: stop.signal,
      })
      outputs['attestation-id'] = stored.id
      outputs['attestation-url'] = stored.url
    } catch (err) {
      code = isReproofError(err) ? exitCodeFor(err.code) : EXIT.failed
      uploadFailure = isReproofError(err)
        ? `${err.message}${err.context.hint === undefined ? '' : ` (${err.context.hint})`}`
        : String(err)
      // A failed step passes on no bundle (as documented): a later step keyed on
      // `bundle-path`, run `if: always()`, would read it as the release's. The summary
      // says where it was written.
      delete outputs['bundle-path']
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
  const reportPath = argValue(argv, '--report')
  const reportAfter = fileStamp(reportPath)
  if (mode === 'build' && reportPath !== undefined && reportAfter !== undefined)
    if (reportAfter !== reportBefore) outputs['report-path'] = reportPath
  writeOutputs(env.GITHUB_OUTPUT, outputs)
  if (uploadFailure !== undefined) {
    writeSummary(env, [
      `## reproof build: signed, but not stored with GitHub's attestations`,
      '',
      markdownText(uploadFailure),
      '',
      markdownText(
        `The bundle was written to ${bundle}; the step failed, so output bundle-path is not set.`,
      ),
      '',
    ])
    annotate(log, code === EXIT.ambiguous ? 'warning' : 'error', uploadFailure, 'reproof build')
  } else if (outputs['attestation-url'] !== undefined)
    notices.push(`attestation stored: ${outputs['attestation-url']}`)
  if (report !== undefined) {
    const noted = notices.flatMap((n) => [`> ${n}`, ''])
    // What qualifies the answer (a dirty tree, a ref not recorded, a check not made) is
    // said beside it, in the log and in the summary, as the CLI says it.
    const caveats = boundedCaveats(report.caveats.map(terms))
    const cautioned = caveats.flatMap((c) => [`> **warning:** ${markdownText(c)}`, ''])
    for (const caveat of caveats) annotate(log, 'warning', caveat, `reproof ${mode}`)
    writeSummary(
      env,
      report.summary(MAX_SUMMARY_BYTES - bytes(noted) - bytes(cautioned), outputs['report-path']),
    )
    writeSummary(env, [...cautioned, ...noted])
    // The verdict stands whatever became of the upload (said above).
    annotate(log, report.yes ? 'notice' : 'error', terms(report.verdict), `reproof ${mode}`)
  } else {
    const line = terms(failureLine(result, stderr, mode, code))
    acknowledgeFailure(env, log, mode, code, line)
  }
  return code
}

/** A run with no result to report: its outcome in the summary, and as an annotation. */
function acknowledgeFailure(env: Env, log: Log, mode: Mode, code: number, line: string): void {
  writeSummary(env, [
    `## reproof ${mode}: ${OUTCOME[code] ?? `exit ${code}`}`,
    '',
    markdownText(line),
    '',
  ])
  annotate(log, code === EXIT.ambiguous ? 'warning' : 'error', line, `reproof ${mode}`)
}

const OUTCOME: Record<number, string> = {
  [EXIT.no]: 'no',
  [EXIT.usage]: 'bad input (exit 2)',
  [EXIT.failed]: 'the build or the environment failed (exit 3)',
  [EXIT.ambiguous]: 'outcome unknown (exit 4); a retry is safe',
  [EXIT.interrupted]: 'interrupted',
}

// GitHub drops a step summary over 1 MiB: stay well below it.
const MAX_SUMMARY_BYTES = 1000 * 1024

interface Report {
  outputs: Record<string, string>
  /** The summary's lines, within `maxBytes`. */
  summary: (maxBytes: number, reportPath: string | undefined) => string[]
  /** The answer in one line, for the annotation. */
  verdict: string
  yes: boolean
  /** What qualifies the answer: warnings, and checks that were not made. */
  caveats: string[]
}

/** Each mode's JSON result as step outputs, a job summary and a verdict. */
const REPORTS: Record<Mode, (result: unknown, terms: (text: string) => string) => Report> = {
  build: (result, terms) => {
    const build = result as {
      reproducible: boolean
      verdict: string
      artifacts: { name: string; digest: { sha256: string } }[]
      differences: unknown[]
      variations: unknown[]
      turnedOff?: BuildResult['turnedOff']
      isolation: BuildResult['isolation']
      explanation: DiffReport | null
      warnings: string[]
      excludedOutputs: string[]
      epoch: number
      epochSource: string
      signature?: { notVerified: string | null } | null
    }
    // Every variation that was not applied is named, as on the CLI's verdict line.
    // And how the runs were kept apart: a verdict without the sandbox, or with the
    // network, is weaker evidence, and the summary says so as the CLI does.
    const conditions = `${describeVariations(build.variations as BuildResult['variations'], build.turnedOff)}; ${describeIsolation(build)}`
    const verdict = build.reproducible
      ? `${build.verdict === 'reproducible' ? 'reproducible' : 'reproducible after normalization'} under ${conditions}: ${build.artifacts.length} artifact(s)`
      : `NOT reproducible under ${conditions}: ${build.differences.length} of ${build.artifacts.length} artifact(s) differ${firstCause(build.explanation)}`
    // Artifact names are the build's to choose: escaped, never markdown or HTML.
    const head = [
      `## reproof build: ${build.reproducible ? (build.verdict === 'reproducible' ? 'reproducible' : 'reproducible after normalization') : 'NOT reproducible'}`,
      '',
      markdownText(terms(verdict)),
      '',
      markdownText(`epoch ${build.epoch} (${build.epochSource})`),
      '',
      '| artifact | sha256 |',
      '| --- | --- |',
      ...build.artifacts.map((a) => `| ${code(a.name)} | ${code(a.digest.sha256)} |`),
      '',
    ]
    const digests = Object.fromEntries(build.artifacts.map((a) => [a.name, a.digest.sha256]))
    return {
      // The digests only of a yes: on a no they are run A's of outputs that did not
      // reproduce, which a later step (`if: always()`) could take for attested ones.
      outputs: {
        reproducible: String(build.reproducible),
        ...(build.reproducible ? { digests: JSON.stringify(digests) } : {}),
      },
      summary: (max, reportPath) =>
        build.explanation === null
          ? capLines(head, max)
          : fitExplanation(head, build.explanation, max, reportPath),
      verdict,
      yes: build.reproducible,
      caveats: [
        ...(build.excludedOutputs.length > 0 ? [excludedWarning(build.excludedOutputs)] : []),
        ...build.warnings.map(toDisplayText),
        // Signed, but the bundle was not checked against the root its services answer to
        // (custom services without input trusted-root): the CLI's note, said here too.
        ...(build.signature?.notVerified == null
          ? []
          : [
              `the bundle was not verified against a trusted root before it was written (${toDisplayText(build.signature.notVerified)}); give input trusted-root for these services`,
            ]),
      ],
    }
  },
  verify: (result, terms) => {
    const verify = result as {
      verified: boolean
      reason: string | null
      checks: ShownCheck[]
      unchecked: string[]
    }
    const failedCheck = verify.checks.find((c) => !c.ok)
    const verdict = verify.verified
      ? `verified: ${verify.checks.length} checks passed`
      : `rejected (${verify.reason ?? 'unknown'}): ${failedCheck === undefined ? 'a check failed' : `${failedCheck.name}${whyFailed(failedCheck, ANNOTATION_DETAIL)}`}`
    const summary = [
      `## reproof verify: ${verify.verified ? 'verified' : `rejected (${verify.reason ?? 'unknown'})`}`,
      '',
      ...checkLines(verify.checks, terms),
      '',
    ]
    return {
      outputs: {
        decision: verify.verified ? 'verified' : `rejected: ${verify.reason ?? 'unknown'}`,
      },
      summary: (max) => capLines(summary, max),
      verdict,
      yes: verify.verified,
      caveats: verify.unchecked.map((u) => `not checked: ${toDisplayText(u)}`),
    }
  },
  gate: (result, terms) => {
    const gate = result as {
      decision: string
      why: string
      env: string
      reason?: string
      recovered?: string | null
      unanchored?: boolean
      verification?: {
        unchecked?: string[]
        checks?: ShownCheck[]
      } | null
    }
    // Which checks the release passed: what the policy inputs given (or not) came to.
    const checks = gate.verification?.checks ?? []
    const verdict = `${gate.decision}${gate.reason === undefined ? '' : ` (${gate.reason})`}: ${gate.why}`
    // A torn last line moved aside is never silent: in the summary as in the CLI's answer.
    const torn =
      typeof gate.recovered === 'string'
        ? [`**A torn last line of the ledger was moved to ${markdownText(gate.recovered)}.**`, '']
        : []
    return {
      outputs: { decision: gate.decision },
      summary: (max) =>
        capLines(
          [
            `## reproof gate (${markdownText(gate.env)}): ${gate.decision}`,
            '',
            markdownText(terms(gate.why)),
            '',
            ...torn,
            ...(checks.length === 0 ? [] : ['Verification:', '', ...checkLines(checks, terms), '']),
          ],
          max,
        ),
      verdict,
      yes: gate.decision === 'recorded' || gate.decision === 'unchanged',
      caveats: [
        // A fresh runner's gate checked the ledger against itself only: said every time,
        // as the CLI says it on stderr.
        ...(gate.unanchored === true ? [UNANCHORED_IN_ACTION] : []),
        ...(gate.verification?.unchecked ?? []).map((u) => `not checked: ${toDisplayText(u)}`),
      ],
    }
  },
}

// A URL's user information (`user:token@`) and query (`?private_token=…`) in a word.
const URL_SECRETS = /([a-z][a-z0-9+.-]*:\/\/)(?:([^/?#\s@]*)@)?([^/?#\s]*[^?#\s]*)(\?[^#\s]*)?/gi

/**
 * The user information and query values of every URL in `argv`, raw and decoded, of 8
 * characters or more: a token is long, and a mask of `git` or `1` would blank those
 * characters throughout the log.
 */
function urlSecrets(argv: readonly string[]): string[] {
  const secrets = new Set<string>()
  const add = (value: string): void => {
    if (value.length < 8) return
    secrets.add(value)
    try {
      secrets.add(decodeURIComponent(value))
    } catch {
      // Not percent-encoded text: the raw value is masked.
    }
  }
  for (const word of argv)
    for (const [, , userinfo, , query] of word.matchAll(URL_SECRETS)) {
      if (userinfo !== undefined) {
        add(userinfo)
        add(userinfo.slice(userinfo.indexOf(':') + 1))
      }
      for (const pair of (query ?? '').slice(1).split('&')) add(pair.slice(pair.indexOf('=') + 1))
    }
  return [...secrets]
}

/** `word` with every URL's user information and query left out. */
function withoutUrlSecrets(word: string): string {
  return word.replace(URL_SECRETS, (_, scheme: string, _user, rest: string) => `${scheme}${rest}`)
}

/** A check as the CLI's `--json` gives it (docs/verify.md). */
interface ShownCheck {
  name: string
  ok: boolean
  wanted?: unknown
  found?: unknown
}

/** Each check a verification made, passed or not, as a list item; a failed one says why. */
function checkLines(checks: readonly ShownCheck[], terms: (text: string) => string): string[] {
  return checks.map(
    (c) =>
      `- ${c.ok ? '✅' : '❌'} ${markdownText(c.name)}${markdownText(terms(whyFailed(c, SUMMARY_DETAIL)))}`,
  )
}

/**
 * What a failed check found and wanted, as `: found …; wanted …` (the reason's code alone
 * misled: `too-old` for a key bundle whose age cannot be told), at most `max` characters;
 * nothing for a check that passed.
 */
function whyFailed(check: ShownCheck, max: number): string {
  if (check.ok) return ''
  const text = (value: unknown): string =>
    typeof value === 'string' ? value : JSON.stringify(value)
  const parts = [
    ...(check.found === undefined ? [] : [`found ${text(check.found)}`]),
    ...(check.wanted === undefined ? [] : [`wanted ${text(check.wanted)}`]),
  ]
  if (parts.length === 0) return ''
  const said = parts.join('; ')
  return `: ${said.length <= max ? said : `${said.slice(0, max)}…`}`
}

// An annotation is a line people read; the summary holds more.
const ANNOTATION_DETAIL = 600
const SUMMARY_DETAIL = 2000

const UNANCHORED_IN_ACTION =
  "this runner kept no checkpoint of the ledger: its records were checked against each other, not against what an earlier gate verified, so a ledger cut back or rewritten before now cannot be seen; keep input state-dir across jobs (a self-hosted runner's disk, or actions/cache in runs on one branch), and protect the ledger's branch, as docs/action.md says"

/** Text in a summary, shown as it is: escaped, with markdown's and HTML's marks made plain. */

/** ` — path: cause` for the first differing item with a hint, if there is one. */
function firstCause(report: DiffReport | null): string {
  const item = report?.items.find((i) => i.hints.length > 0)
  const hint = item?.hints[0]
  // Escaped here: the verdict goes into an annotation too, which shows escapes raw.
  return item === undefined || hint === undefined
    ? ''
    : `; ${toDisplayText(item.path)}: ${hint.cause}`
}

/**
 * The summary with as many of the explanation's items as fit under `max` bytes, and
 * how many more are in the full report when not all do.
 */
function fitExplanation(
  head: string[],
  report: DiffReport,
  max: number,
  reportPath: string | undefined,
): string[] {
  const explanation = fittedDiffMarkdown(
    report,
    max - bytes(head),
    (more) =>
      `_${more} more differences in the report${reportPath === undefined ? '' : ` (\`${reportPath}\`, output \`report-path\`)`}._\n`,
  )
  return capLines([...head, explanation], max)
}

// What the warnings beside a verdict may take of the summary, each and all together: the
// verdict and its table come first, whatever a build warns of.
const MAX_CAVEAT_BYTES = 4 * 1024
const MAX_CAVEATS_BYTES = 64 * 1024

/** The caveats, each cut to a bound, as many as fit in theirs, then how many more. */
function boundedCaveats(caveats: readonly string[]): string[] {
  const out: string[] = []
  let total = 0
  for (const [i, caveat] of caveats.entries()) {
    const one =
      Buffer.byteLength(caveat) <= MAX_CAVEAT_BYTES
        ? caveat
        : `${Buffer.from(caveat)
            .subarray(0, MAX_CAVEAT_BYTES)
            .toString('utf8')
            .replace(/\uFFFD$/, '')}… (cut short)`
    total += Buffer.byteLength(one)
    if (total > MAX_CAVEATS_BYTES) {
      out.push(`and ${caveats.length - i} more warnings, not shown`)
      break
    }
    out.push(one)
  }
  return out
}

/** Lines cut at a line's end so that they stay under `max` bytes, saying so. */
function capLines(lines: string[], max: number): string[] {
  if (bytes(lines) <= max) return lines
  const text = lines.join('\n')
  const cut = Buffer.from(text)
    .subarray(0, Math.max(0, max - 200))
    .toString('utf8')
  return [
    cut.slice(0, Math.max(0, cut.lastIndexOf('\n'))),
    '',
    '_(cut here: the summary is limited to 1 MiB)_',
    '',
  ]
}

const bytes = (lines: readonly string[]): number => Buffer.byteLength(`${lines.join('\n')}\n`)

function writeSummary(env: Env, lines: string[]): void {
  if (env.GITHUB_STEP_SUMMARY === undefined || lines.length === 0) return
  fs.appendFileSync(env.GITHUB_STEP_SUMMARY, `${lines.join('\n')}\n`)
}

/**
 * A build always writes the full HTML report: where the input `report` says, or in the
 * runner's temp directory, so that a summary cut short can point to it.
 */
function withDefaultReport(parsed: ActionArgv, env: Env): ActionArgv {
  if (parsed.mode !== 'build' || argValue(parsed.argv, '--report') !== undefined) return parsed
  const dir = env.RUNNER_TEMP ?? os.tmpdir()
  const file = path.join(dir, `reproof-report-${randomUUID().slice(0, 8)}.html`)
  const at = parsed.argv.indexOf('--')
  const argv = [...parsed.argv.slice(0, at), '--report', file, ...parsed.argv.slice(at)]
  return { ...parsed, argv }
}

/** A file's identity and time, to tell whether it was written (atomically: a new inode) since. */
function fileStamp(file: string | undefined): string | undefined {
  if (file === undefined) return undefined
  try {
    const stat = fs.statSync(file, { bigint: true })
    return `${stat.ino}:${stat.mtimeNs}:${stat.size}`
  } catch {
    return undefined
  }
}

/** The value after `flag` in an argv, before `--`. */
function argValue(argv: readonly string[], flag: string): string | undefined {
  const end = argv.indexOf('--')
  const i = argv.indexOf(flag)
  return i === -1 || (end !== -1 && i > end) ? undefined : argv[i + 1]
}

/** A word as a shell would need it, for the log. */
function quote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`
}

/**
 * The one line a failure's annotation says: the CLI writes an error as JSON under
 * --json; stderr's first `reproof:` line is the fallback for a failure before any JSON
 * could be written.
 */
function failureLine(result: unknown, stderr: string, mode: string, code: number): string {
  const error = (result as { error?: { message?: string; hint?: string } } | undefined)?.error
  if (error?.message !== undefined)
    return `${error.message}${error.hint === undefined ? '' : ` (${error.hint})`}`
  return (
    stderr
      .split('\n')
      .find((l) => l.startsWith('reproof: '))
      ?.replace(/^reproof: /, '') ?? `reproof ${mode} ended with exit code ${code}`
  )
}

function parse(stdout: string): unknown {
  try {
    return stdout.trim() === '' ? undefined : (JSON.parse(stdout) as unknown)
  } catch {
    return undefined
  }
}

/** `name<<delimiter` blocks, so that values may hold newlines. */
function writeOutputs(file: string | undefined, outputs: Record<string, string>): void {
  if (file === undefined) return
  const text = Object.entries(outputs)
    .map(([name, value]) => {
      const delimiter = `reproof_${randomUUID()}`
      return `${name}<<${delimiter}\n${value}\n${delimiter}\n`
    })
    .join('')
  fs.appendFileSync(file, text)
}
