/**
 * What git reads from the environment to find a repository and its objects: `git
 * rev-parse --local-env-vars`, with GIT_QUARANTINE_PATH (set while a hook runs) and
 * GIT_NAMESPACE. A gate run from a git hook, or by a tool that exports GIT_DIR, would
 * otherwise commit into the caller's repository and index, or read a history through
 * grafts and replacements. The `-c` settings (GIT_CONFIG_PARAMETERS, GIT_CONFIG_COUNT and
 * its keys and values) stay: they may carry what the remote needs (credentials, a proxy).
 */
export const REPOSITORY_ENV: readonly string[] = [
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_COMMON_DIR',
  'GIT_CONFIG',
  'GIT_DIR',
  'GIT_GRAFT_FILE',
  'GIT_IMPLICIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_INTERNAL_SUPER_PREFIX',
  'GIT_NAMESPACE',
  'GIT_NO_REPLACE_OBJECTS',
  'GIT_OBJECT_DIRECTORY',
  'GIT_PREFIX',
  'GIT_QUARANTINE_PATH',
  'GIT_REPLACE_REF_BASE',
  'GIT_SHALLOW_FILE',
  'GIT_WORK_TREE',
]

/** The caller's environment without what would point git at another repository. */
export function ledgerGitEnv(
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !REPOSITORY_ENV.includes(name)))
}
