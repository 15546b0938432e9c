import { compareBytes } from '../canonical.js'
import type { SourceEntry } from '../sandbox/source-files.js'

// Files that pin a build's dependencies, by their base name.
const LOCKFILES = new Set([
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'bun.lock',
  'bun.lockb',
  'Cargo.lock',
  'go.sum',
  'poetry.lock',
  'Pipfile.lock',
  'uv.lock',
  'pdm.lock',
  'Gemfile.lock',
  'composer.lock',
  'gradle.lockfile',
  'packages.lock.json',
  'flake.lock',
  'MODULE.bazel.lock',
  'mix.lock',
  'pubspec.lock',
  'Package.resolved',
])

/** The lockfiles among a source's entries, in byte order of their paths. */
export function findLockfiles(entries: readonly SourceEntry[]): string[] {
  return entries
    .filter((e) => e.kind === 'file' && LOCKFILES.has(e.rel.slice(e.rel.lastIndexOf('/') + 1)))
    .map((e) => e.rel)
    .sort(compareBytes)
}
