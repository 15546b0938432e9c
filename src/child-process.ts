import * as childProcess from 'node:child_process'
import { beforeFirstChild } from './inherited-descriptors.js'

/**
 * The one door to node:child_process (lint refuses the module anywhere else): every
 * program reproof starts goes through here, so the descriptors its caller left open are
 * closed before the first of them, whatever place in the code starts it.
 */

export type { ChildProcess } from 'node:child_process'

export const spawn: typeof childProcess.spawn = ((
  ...args: Parameters<typeof childProcess.spawn>
) => {
  beforeFirstChild()
  return childProcess.spawn(...args)
}) as typeof childProcess.spawn

export const execFileSync: typeof childProcess.execFileSync = ((
  ...args: Parameters<typeof childProcess.execFileSync>
) => {
  beforeFirstChild()
  return childProcess.execFileSync(...args)
}) as typeof childProcess.execFileSync
