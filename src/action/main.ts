import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import { main } from '../cli/main.js'
import { renderDiffMarkdown } from '../cli/views/diff-markdown.js'
import type { DiffReport } from '../diff/report.js'
import { EXIT, isReproofError } from '../errors.js'
import { maskCommand } from '../sign/secrets.js'
import { toArgv } from './inputs.js'

/**
 * The GitHub Action: inputs become the command line of the same reproof command, its
 * JSON result becomes step outputs and a job summary, and failures become workflow
 * annotations. The exit code is the CLI's.
 */
export async function runAction(
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  // Before anything can print it: a token handed to the step is masked in the whole log.
  // (A token fetched from the runner's OIDC endpoint is masked by the signing code.)
  process.stdout.write(maskCommand(env.SIGSTORE_ID_TOKEN ?? '', env))
  let mode: 'build' | 'verify' | 'gate'
  let argv: string[]
  try {
    ;({ mode, argv } = toArgv(env))
  } catch (err) {
    annotate('error', isReproofError(err) ? err.message : String(err))
    return EXIT.usage
  }
  let stdout = ''
  let stderr = ''
  const code = await main(['node', 'reproof', ...argv], {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: {
      write: (s: string) => {
        stderr += s
        return process.stderr.write(s)
      },
    },
    env,
  })
  const result = parse(stdout)
  // An error is JSON too under --json ({ error }): it has no result to report.
  const failed =
    result === undefined || (typeof result === 'object' && result !== null && 'error' in result)
  const { outputs, summary } = failed ? { outputs: {}, summary: [] } : REPORTS[mode](result)
  const bundle = env.INPUT_BUNDLE?.trim()
  if (bundle !== undefined && bundle !== '' && fs.existsSync(bundle))
    outputs['bundle-path'] = bundle
  writeOutputs(env.GITHUB_OUTPUT, outputs)
  if (env.GITHUB_STEP_SUMMARY !== undefined && summary.length > 0)
    fs.appendFileSync(env.GITHUB_STEP_SUMMARY, `${summary.join('\n')}\n`)
  if (code !== EXIT.yes)
    annotate(code === EXIT.no ? 'warning' : 'error', failureLine(result, stderr, mode, code))
  return code
}

interface Report {
  outputs: Record<string, string>
  summary: string[]
}

/** Each mode's JSON result as step outputs and job summary lines. */
const REPORTS: Record<'build' | 'verify' | 'gate', (result: unknown) => Report> = {
  build: (result) => {
    const build = result as {
      reproducible: boolean
      artifacts: { name: string; digest: { sha256: string } }[]
      explanation: DiffReport | null
    }
    const summary = [
      `## reproof build: ${build.reproducible ? 'reproducible' : 'NOT reproducible'}`,
      '',
      '| artifact | sha256 |',
      '| --- | --- |',
      ...build.artifacts.map((a) => `| \`${a.name}\` | \`${a.digest.sha256}\` |`),
      '',
    ]
    if (build.explanation !== null) summary.push(renderDiffMarkdown(build.explanation))
    const digests = Object.fromEntries(build.artifacts.map((a) => [a.name, a.digest.sha256]))
    return {
      outputs: { reproducible: String(build.reproducible), digests: JSON.stringify(digests) },
      summary,
    }
  },
  verify: (result) => {
    const verify = result as {
      verified: boolean
      reason: string | null
      checks: { name: string; ok: boolean }[]
    }
    return {
      outputs: {
        decision: verify.verified ? 'verified' : `rejected: ${verify.reason ?? 'unknown'}`,
      },
      summary: [
        `## reproof verify: ${verify.verified ? 'verified' : `rejected (${verify.reason ?? 'unknown'})`}`,
        '',
        ...verify.checks.map((c) => `- ${c.ok ? '✅' : '❌'} ${c.name}`),
        '',
      ],
    }
  },
  gate: (result) => {
    const gate = result as { decision: string; why: string; env: string }
    return {
      outputs: { decision: gate.decision },
      summary: [`## reproof gate (${gate.env}): ${gate.decision}`, '', gate.why, ''],
    }
  },
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

function annotate(level: 'error' | 'warning', message: string): void {
  // Workflow commands: % and newlines are escaped as the runner expects.
  process.stdout.write(
    `::${level}::${message.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')}\n`,
  )
}
