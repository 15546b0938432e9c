type Env = Readonly<Record<string, string | undefined>>

/**
 * The environment of the gate's git, given a token for the ledger's remote: an
 * `http.<server>/.extraheader` that authenticates as GitHub's checkout does, passed as
 * git's GIT_CONFIG_* variables. It lives only in the gate step's process: never in a
 * config file, never in the environment of later steps, never in the ledger's URL.
 */
export function withLedgerToken(env: Env, token: string): { env: Env; secrets: string[] } {
  const server = (env.GITHUB_SERVER_URL ?? 'https://github.com').replace(/\/+$/, '')
  const basic = Buffer.from(`x-access-token:${token}`).toString('base64')
  // After any configuration the caller already passes this way.
  const count = Number.parseInt(env.GIT_CONFIG_COUNT ?? '0', 10)
  const n = Number.isSafeInteger(count) && count > 0 ? count : 0
  return {
    env: {
      ...env,
      GIT_CONFIG_COUNT: String(n + 1),
      [`GIT_CONFIG_KEY_${n}`]: `http.${server}/.extraheader`,
      [`GIT_CONFIG_VALUE_${n}`]: `AUTHORIZATION: basic ${basic}`,
    },
    secrets: [token, basic],
  }
}
