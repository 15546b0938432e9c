import fs from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { sweepStaleFaketimeMemory } from '../../../src/sandbox/process.js'

// PIDs above the largest pid_max Linux allows (2^22) never belong to a process.
const GONE = [4194399, 4194400] as const
const files: string[] = []

function plant(name: string): string {
  const file = `/dev/shm/${name}`
  fs.writeFileSync(file, '')
  files.push(file)
  return file
}

afterEach(() => {
  for (const file of files.splice(0)) fs.rmSync(file, { force: true, recursive: true })
})

describe.runIf(fs.existsSync('/dev/shm'))('the sweep of libfaketime shared memory', () => {
  it('removes what processes that are gone left, and only that', async () => {
    const gone = [
      plant(`faketime_shm_${GONE[0]}`),
      plant(`sem.faketime_sem_${GONE[0]}`),
      plant(`faketime_shm_${GONE[1]}`),
    ]
    // A running process's memory is in use, whatever made it.
    const running = [plant(`faketime_shm_${process.pid}`), plant(`sem.faketime_sem_${process.pid}`)]
    // Names of other programs, or near misses, are not libfaketime's.
    const others = [
      plant(`faketime_shm_${GONE[0]}.bak`),
      plant(`faketime_shm_0${GONE[0]}`),
      plant(`sem.faketime_shm_${GONE[1]}`),
      plant(`myapp_shm_${GONE[0]}`),
    ]
    // Not a plain file: left alone.
    const link = `/dev/shm/faketime_shm_${GONE[1] + 1}`
    fs.symlinkSync('/dev/null', link)
    files.push(link)
    await sweepStaleFaketimeMemory()
    expect(gone.filter((f) => fs.existsSync(f))).toEqual([])
    expect(running.filter((f) => fs.existsSync(f))).toEqual(running)
    expect(others.filter((f) => fs.existsSync(f))).toEqual(others)
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true)
  })
})
