/**
 * Retrying with backoff, in one place: how long to wait before each new try, and a loop
 * that keeps the reason each try was given up, so that the error after the last one can
 * say why. A try that cannot succeed by trying again throws, and the loop stops there.
 */

/** Waits that grow by `factor` from `firstMs` up to `maxMs`, plus up to `jitterMs` at random. */
export interface Backoff {
  firstMs: number
  factor: number
  maxMs: number
  /** Spreads out parties that failed together (gates racing for one ledger). */
  jitterMs?: number
}

/** The wait before retry number `retry` (1 for the second try). */
export function backoffMs(
  policy: Backoff,
  retry: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(policy.maxMs, policy.firstMs * policy.factor ** Math.max(0, retry - 1))
  return base + random() * (policy.jitterMs ?? 0)
}

/**
 * A plain timer, which keeps the process alive while it runs: between two tries it is
 * all that is pending, and an unreferenced one let Node exit mid-retry (exit 13).
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** What one try came to: done with a value, or worth another try, for a reason. */
export type Attempt<T, R> = { done: T } | { again: R }

export type Retried<T, R> = { ok: true; value: T } | { ok: false; reasons: R[] }

/**
 * Makes up to `attempts` tries, waiting by `backoff` between them. Returns the first
 * value, or every reason a try was given up, in order. `wait` is the clock's part, given
 * in so that tests need not wait.
 */
export async function withRetries<T, R>(
  attempts: number,
  backoff: Backoff,
  attempt: (n: number) => Promise<Attempt<T, R>> | Attempt<T, R>,
  wait: (ms: number) => Promise<void> = sleep,
): Promise<Retried<T, R>> {
  const reasons: R[] = []
  for (let n = 1; n <= attempts; n++) {
    if (n > 1) await wait(backoffMs(backoff, n - 1))
    const outcome = await attempt(n)
    if ('done' in outcome) return { ok: true, value: outcome.done }
    reasons.push(outcome.again)
  }
  return { ok: false, reasons }
}
