import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { isReproofError } from '../../../src/errors.js'
import { readBuildRecord } from '../../../src/records/diff-records.js'
import { BUILD_RECORD_TYPE } from '../../../src/records/build-record.js'
import { cleanupTemp, makeTemp } from '../../helpers.js'

afterEach(cleanupTemp)

describe('readBuildRecord', () => {
  it('takes a file for a record only when it says so, and refuses a broken one as bad input', () => {
    const dir = makeTemp()
    const file = path.join(dir, 'x.json')
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (value, typed) => {
        const json =
          typed && typeof value === 'object' && value !== null && !Array.isArray(value)
            ? { ...value, recordType: BUILD_RECORD_TYPE }
            : value
        fs.writeFileSync(file, JSON.stringify(json))
        let read: unknown
        try {
          read = readBuildRecord(file)
        } catch (err) {
          // The only failure: a file whose recordType says it is a record and is not a valid one.
          expect(isReproofError(err) && err.code === 'E_INPUT').toBe(true)
          expect((json as { recordType?: unknown }).recordType).toBe(BUILD_RECORD_TYPE)
          return
        }
        if (!JSON.stringify(json ?? null).includes(BUILD_RECORD_TYPE)) expect(read).toBeUndefined()
      }),
    )
    // The type named elsewhere (a schema's $id): a file to compare, not a broken record.
    fs.writeFileSync(file, JSON.stringify({ $id: BUILD_RECORD_TYPE, title: 'v1' }))
    expect(readBuildRecord(file)).toBeUndefined()
  })
})
