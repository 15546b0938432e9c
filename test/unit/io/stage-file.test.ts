import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { stageFileAtomic } from '../../../src/io/atomic-write.js'
import { cleanupTemp, makeTemp } from '../../helpers.js'

afterEach(cleanupTemp)

describe('stageFileAtomic', () => {
  it('answers a write that fails while the filling still runs, leaving nothing behind', async () => {
    // A full disk at a flush the filler does not wait for: the sink fails first.
    const dir = makeTemp()
    const target = path.join(dir, 'out.tar')
    const staged = stageFileAtomic(target, 0o644, async (out) => {
      out.write(Buffer.alloc(10))
      out.destroy(
        Object.assign(new Error('ENOSPC: no space left on device, write'), {
          code: 'ENOSPC',
          syscall: 'write',
        }),
      )
      await new Promise((resolve) => setTimeout(resolve, 50))
    })
    await expect(staged).rejects.toMatchObject({
      code: 'E_ENVIRONMENT',
      message: expect.stringMatching(/no space left on the device/) as unknown,
    })
    expect(fs.readdirSync(dir)).toEqual([])
  })
})
