import { EXIT } from '../errors.js'
import { closeInheritedDescriptors } from '../inherited-descriptors.js'
import { runAction } from './main.js'

// What the runner left open is not the build's to inherit (see inherited-descriptors.ts).
closeInheritedDescriptors()

// A crash of the Action itself after the CLI answered: one line and exit 3, never Node's
// stack trace and exit 1, which a workflow reads as "no".
process.exitCode = await runAction(process.env).catch((err: unknown) => {
  process.stdout.write(
    `::error title=reproof::the action failed: ${(err instanceof Error ? err.message : String(err)).replace(/[\r\n%]/g, ' ')}\n`,
  )
  return EXIT.failed
})
