import * as childProcess from 'node:child_process'
import { beforeFirstChild } from './inherited-descriptors.js'

/**
 * The one door to node:child_process (lint refuses the module anywhere else): every
 * program reproof starts goes through here, so the descriptors its caller left open are
 * closed before the first of them, whatever place in the code starts it.
 */

export type { ChildProcess } from 'node:child_process'

/** `start`, after the caller's descriptors are closed once. */
function throughDoor<F extends (...args: never[]) => unknown>(start: F): F {
  return ((...args: Parameters<F>) => {
    beforeFirstChild()
    return start(...args)
  }) as F
}

export const spawn = throughDoor(childProcess.spawn)
export const execFileSync = throughDoor(childProcess.execFileSync)
