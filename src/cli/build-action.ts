import path from 'node:path'
import { runBuild } from '../build/run-build.js'
import { toBuildOptions, type BuildFlags } from '../config/build-options.js'
import { loadBuildConfig } from '../config/load-config.js'
import { renderDiffText } from '../diff/views/text.js'
import { EXIT } from '../errors.js'
import { renderBuildHuman } from './build-view.js'
import { useColor, type Streams } from './output.js'
import { createStatusDisplay } from './status-display.js'

/** `reproof build`: options in, result printed, exit code out. */
export async function buildAction(
  command: string[],
  flags: BuildFlags,
  streams: Streams,
  signal: AbortSignal,
): Promise<number> {
  const config = await loadBuildConfig(resolveSource(flags))
  const options = toBuildOptions(flags, command, config, process.cwd(), resolveSource(flags))
  const status = options.json ? undefined : createStatusDisplay(streams)
  try {
    const result = await runBuild(options, {
      callerEnv: streams.env,
      signal,
      ...(status === undefined ? {} : { onEvent: status.onEvent }),
    })
    status?.stop()
    if (result.explanation !== null) {
      streams.stderr.write(
        renderDiffText(result.explanation, useColor(streams.stderr, streams.env)),
      )
    }
    if (options.json) streams.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
    else streams.stdout.write(renderBuildHuman(result, useColor(streams.stdout, streams.env)))
    return result.reproducible ? EXIT.yes : EXIT.no
  } finally {
    status?.stop()
  }
}

function resolveSource(flags: BuildFlags): string {
  return path.resolve(process.cwd(), flags.source ?? '.')
}
