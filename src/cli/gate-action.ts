import { toGateAction, toGateCheck, toGateCommon, toGateRead } from '../config/gate-options.js'
import type { GateFlags } from '../config/flags.js'
import { EXIT } from '../errors.js'
import { checkPolicyFitsTrust, readPolicyFlag } from '../config/verify-options.js'
import { runGateCheck } from '../gate/run-check.js'
import { runGate } from '../gate/run-gate.js'
import { runGateHistory, runGateStatus } from '../gate/run-read.js'
import {
  renderGateCheck,
  renderGateResult,
  renderHistory,
  renderStatus,
  tornLine,
  UNANCHORED,
} from './views/gate.js'
import { useColor, type Streams } from './output.js'

/** `reproof gate <sub>`: flags to options, the runner, then the answer (text or JSON). */
export async function gateAction(
  sub: 'deploy' | 'rollback' | 'status' | 'history' | 'check',
  artifact: string | undefined,
  flags: GateFlags,
  streams: Streams,
  signal?: AbortSignal,
): Promise<number> {
  const print = (json: unknown, text: string): void => {
    streams.stdout.write(flags.json === true ? `${JSON.stringify(json, null, 2)}\n` : `${text}\n`)
  }
  // On stderr in either form (the JSON has `unanchored` too): the answer stands, and
  // what it could not see is said where a person reads.
  const warnIfUnanchored = (read: { unanchored: boolean }): void => {
    if (read.unanchored) streams.stderr.write(`reproof: warning: ${UNANCHORED}\n`)
  }
  switch (sub) {
    case 'deploy':
    case 'rollback': {
      const action = toGateAction(sub, artifact, flags)
      const common = await toGateCommon(flags, streams.env, Date.now)
      // A certificate-only requirement with --key is a usage error, as for verify and
      // check, not a no from the bundle after the ledger was locked.
      checkPolicyFitsTrust(common.policy, common.trust)
      const result = await runGate(action, common, signal)
      print(result, renderGateResult(result, useColor(streams.stdout, streams.env)))
      warnIfUnanchored(result)
      return result.decision === 'refused' ? EXIT.no : EXIT.yes
    }
    case 'check': {
      const options = toGateCheck(
        flags,
        streams.env,
        Date.now,
        await readPolicyFlag({ ...flags, bundle: '' }),
      )
      checkPolicyFitsTrust(options.policy, options.trust)
      const result = await runGateCheck(options)
      print(result, renderGateCheck(result))
      warnIfUnanchored(result)
      return EXIT.yes
    }
    case 'history': {
      const options = toGateRead(flags, streams.env)
      const { records, recovered, unanchored } = await runGateHistory(options)
      warnIfUnanchored({ unanchored })
      // The JSON answer stays the list of records; a torn line moved aside is said on
      // stderr, in either form.
      print(records, renderHistory(records, options.env))
      if (recovered !== null) streams.stderr.write(`reproof: ${tornLine(recovered)}\n`)
      return EXIT.yes
    }
    case 'status': {
      const status = await runGateStatus(toGateRead(flags, streams.env))
      print(status, renderStatus(status))
      warnIfUnanchored(status)
      if (status.recovered !== null && flags.json === true)
        streams.stderr.write(`reproof: ${tornLine(status.recovered)}\n`)
      return EXIT.yes
    }
  }
}
