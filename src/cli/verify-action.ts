import { EXIT, ReproofError, throwIfAborted } from '../errors.js'
import { parseDuration } from '../config/duration.js'
import { runVerify } from '../verify/run-verify.js'
import { useColor, type Streams } from './output.js'
import { renderVerify } from './views/verify.js'
import type { VerifyFlags } from '../config/flags.js'
import {
  checkPolicyFitsTrust,
  readPolicyFlag,
  splitSubjects,
  toPolicy,
  toTrust,
} from '../config/verify-options.js'

/** `reproof verify`: trust and policy from flags (and a policy file), then the verdict. */
export async function verifyAction(
  artifacts: string[],
  flags: VerifyFlags,
  streams: Streams,
  signal?: AbortSignal,
): Promise<number> {
  const trust = toTrust(flags)
  const policy = toPolicy(flags, await readPolicyFlag(flags))
  checkPolicyFitsTrust(policy, trust)
  const { files, digests } = splitSubjects(artifacts)
  if (flags.rebuild === true && flags.source === undefined)
    throw new ReproofError(
      'E_USAGE',
      '--rebuild needs --source <dir>, a local git repository with the recorded commit',
    )
  // Options of the rebuild without one: a verification that ignored them would be a
  // yes to a question that was not asked (no rebuild ran).
  const rebuildOnly = {
    '--source': flags.source,
    '--temp-dir': flags.tempDir,
    '--rebuild-env': flags.rebuildEnv,
    '--rebuild-network': flags.rebuildNetwork,
    '--rebuild-without-sandbox': flags.rebuildWithoutSandbox,
    '--rebuild-timeout': flags.rebuildTimeout,
  }
  for (const [flag, value] of Object.entries(rebuildOnly))
    if (flags.rebuild !== true && value !== undefined)
      throw new ReproofError('E_USAGE', `${flag} is for --rebuild, which was not given`)
  const rebuild =
    flags.rebuild === true
      ? {
          source: flags.source ?? '.',
          callerEnv: streams.env,
          // Before the signer's command runs here, the verifier is told what it is.
          onRecipe: (said: string) => streams.stderr.write(`reproof: ${said}\n`),
          tempDir: flags.tempDir,
          passEnv: flags.rebuildEnv ?? [],
          allowNetwork: flags.rebuildNetwork === true,
          allowNoSandbox: flags.rebuildWithoutSandbox === true,
          ...(flags.rebuildTimeout === undefined
            ? {}
            : { timeoutMs: parseDuration(flags.rebuildTimeout, '--rebuild-timeout') }),
          ...(signal === undefined ? {} : { signal }),
        }
      : undefined
  const result = await runVerify(
    {
      artifacts: files,
      digests,
      bundle: flags.bundle,
      trust,
      policy,
      ...(rebuild === undefined ? {} : { rebuild }),
    },
    Date.now(),
  )
  // Ctrl-C while verifying: what the user stopped is not answered as if it had not been.
  throwIfAborted(signal)
  if (flags.json === true) streams.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
  else streams.stdout.write(renderVerify(result, useColor(streams.stdout, streams.env)))
  return result.verified ? EXIT.yes : EXIT.no
}
