import { describe, expect, it } from 'vitest'
import { asCommit, committing } from '../../../src/io/commit-window.js'

describe('the commit window', () => {
  it('is open exactly while a write runs, nested or failing', async () => {
    expect(committing()).toBe(false)
    const seen: boolean[] = []
    await asCommit(async () => {
      seen.push(committing())
      await asCommit(async () => {
        await new Promise((resolve) => setTimeout(resolve, 5))
        seen.push(committing())
      })
      seen.push(committing())
    })
    expect(seen).toEqual([true, true, true])
    expect(committing()).toBe(false)
    await expect(asCommit(() => Promise.reject(new Error('the disk is full')))).rejects.toThrow(
      'the disk is full',
    )
    expect(committing()).toBe(false)
  })
})
