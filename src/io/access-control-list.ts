import { execFileSync } from '../child-process.js'
import { ReproofError } from '../errors.js'

/**
 * Whether a file carries a POSIX access control list, as GNU `ls -l` tells by the `+`
 * after its mode. Node reads no extended attributes, and a file written in its place
 * takes only the mode: where an ACL is set, the group bits of that mode are the ACL's
 * mask, so a copy would give the owning group every right any named user or group had.
 */
export function hasAccessControlList(file: string): boolean {
  let listed: string
  try {
    listed = execFileSync('ls', ['-ld', '--', file], {
      encoding: 'utf8',
      env: { LC_ALL: 'C', PATH: process.env.PATH ?? '/usr/bin:/bin' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
  } catch (err) {
    throw new ReproofError(
      'E_ENVIRONMENT',
      `${file}: could not tell whether it has an access control list (ls -ld: ${(err as Error).message.split('\n')[0] ?? ''})`,
      { path: file },
      { cause: err },
    )
  }
  // `-rw-rw----+ 1 …`: ten characters of type and mode, then `+` (ACL), `.` (an SELinux
  // context only) or a space.
  return listed.charAt(10) === '+'
}
