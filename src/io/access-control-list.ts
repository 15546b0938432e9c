import { execFileSync } from '../child-process.js'
import { ReproofError } from '../errors.js'

/**
 * The files of `files` that carry a POSIX access control list, as GNU `ls -l` tells by
 * the `+` after a mode: of what each path leads to (`-L`: a link to a file with a list
 * is that file), one line each (`-b`: a newline in a name escaped), in the order given
 * (`-U`), all in one call. Node reads no extended attributes, and a file written in a
 * file's place takes only its mode: where a list is set, the group bits of that mode
 * are the list's mask, so a copy would give the owning group every right any named user
 * or group had.
 */
export function filesWithAccessControlLists(files: readonly string[]): string[] {
  if (files.length === 0) return []
  let listed: string
  try {
    listed = execFileSync('ls', ['-ldLUb', '--', ...files], {
      encoding: 'utf8',
      env: { LC_ALL: 'C', PATH: process.env.PATH ?? '/usr/bin:/bin' },
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    })
  } catch (err) {
    throw new ReproofError(
      'E_ENVIRONMENT',
      `could not tell whether ${files[0] ?? ''}${files.length > 1 ? ` and ${files.length - 1} more` : ''} carry an access control list (ls -ldL: ${(err as Error).message.split('\n')[0] ?? ''})`,
      {},
      { cause: err },
    )
  }
  const lines = listed.split('\n').filter((l) => l !== '')
  if (lines.length !== files.length)
    throw new ReproofError(
      'E_ENVIRONMENT',
      `ls -ldL listed ${lines.length} lines for ${files.length} files: whether they carry access control lists is not known`,
    )
  // `-rw-rw----+ 1 …`: ten characters of type and mode, then `+` (a list), `.` (an
  // SELinux context only) or a space.
  return files.filter((_, i) => lines[i]?.charAt(10) === '+')
}
