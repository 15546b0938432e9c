import path from 'node:path'
import { ArtifactPlaces } from '../digest/manifest.js'
import { diffDirectories, toReport } from './diff-inputs.js'
import { DiffEngine } from './engine.js'
import type { HintContext } from './hints.js'
import { DEFAULT_LIMITS } from '../formats/limits.js'
import type { DiffItem, DiffReport, FieldDifference } from './report.js'

export interface BuildRunFacts {
  /** The build roots as the builds saw them: what embedded paths are compared with. */
  roots: [string, string]
  /**
   * Where reproof reads each run's artifacts, when not below `roots` by name (the
   * sandbox's /proc/<pid>/root, links on the way resolved by reproof).
   */
  places?: [ArtifactPlaces, ArtifactPlaces]
  canary: string
  /** Wall-clock seconds around both runs; only hints read them. */
  wallClock: [number, number]
  /** Seconds run B's clock was moved ahead (time variation), 0 if not. */
  clockOffsetSeconds: number
  localeVaried: boolean
  /** With the time zone varied, the epoch: a date written from it differs by the zone. */
  epochInZones?: number
}

/** The hint context a twin build knows: both roots, the canary, and when each run's clock said it ran. */
export function buildHintContext(facts: BuildRunFacts): HintContext {
  const [from, to] = [facts.wallClock[0] - 60, facts.wallClock[1] + 60]
  const shift = facts.clockOffsetSeconds
  return {
    roots: [
      [facts.roots[0], path.dirname(facts.roots[0])],
      [facts.roots[1], path.dirname(facts.roots[1])],
    ],
    canary: facts.canary,
    // Run B's clock ran ahead by the offset, but what reads the real clock or the disk
    // (a static binary, the kernel's file times) saw the real one: both are B's times.
    timeWindows: [
      [from, to],
      [from, to + shift],
    ],
    localeVaried: facts.localeVaried,
    timesKnown: true,
    // UTC-12 to UTC+14: the zones the epoch can be written in.
    ...(facts.epochInZones === undefined
      ? {}
      : { epochInZones: [facts.epochInZones - 12 * 3600, facts.epochInZones + 14 * 3600] }),
  }
}

/**
 * Explains the differing artifacts of a twin build while both roots still exist. The
 * engine opens files by text paths, so artifacts whose names are not UTF-8 (see
 * file-names.ts) go unexplained; their digests still decide the verdict.
 */
export async function explainBuild(
  names: readonly string[],
  facts: BuildRunFacts,
): Promise<DiffReport> {
  const engine = new DiffEngine({
    maxLines: 200,
    limits: DEFAULT_LIMITS,
    context: buildHintContext(facts),
  })
  const [a, b] = facts.places ?? [
    new ArtifactPlaces(facts.roots[0]),
    new ArtifactPlaces(facts.roots[1]),
  ]
  // Each artifact where its bytes are: a link artifact's digest is its target's, so its
  // target's content is what differs (its link text may well be the same in both runs).
  // Names that are not UTF-8 too: left out, the only one that differed was "identical".
  const artifacts = [...names]
  await diffDirectories(engine, a.root, b.root, artifacts, [
    { at: (name) => a.readFrom(name) },
    { at: (name) => b.readFrom(name) },
  ])
  const kept = withoutIgnoredModeBits(engine.items, new Set(artifacts))
  engine.items.length = 0
  for (const item of kept) engine.items.push(item)
  return toReport(engine, ['run A', 'run B'])
}

/**
 * The verdict compares an artifact's bytes and its exec bit, nothing else of its mode:
 * a mode on disk that differs in other bits only (0644 and 0664, under another umask)
 * is no difference of the build, and the explanation names no cause for it. Inside an
 * archive a mode is part of the artifact's bytes, and stays.
 */
function withoutIgnoredModeBits(items: DiffItem[], artifacts: ReadonlySet<string>): DiffItem[] {
  const ignored = (f: FieldDifference): boolean =>
    f.field === 'mode' && ((Number.parseInt(f.a, 8) ^ Number.parseInt(f.b, 8)) & 0o111) === 0
  return items.flatMap((item): DiffItem[] => {
    if (item.kind !== 'metadata' || !artifacts.has(item.path)) return [item]
    const fields = item.fields.filter((f) => !ignored(f))
    if (fields.length === item.fields.length) return [item]
    if (fields.length === 0) return []
    const gone = item.fields.filter(ignored).map((f) => `${f.field}: `)
    return [
      {
        ...item,
        fields,
        hints: item.hints.filter((h) => !gone.some((g) => h.evidence.startsWith(g))),
      },
    ]
  })
}

/** The report's items that belong to one artifact (itself and its archive members). */
export function itemsFor(report: DiffReport, name: string): DiffItem[] {
  return report.items.filter((i) => i.path === name || i.path.startsWith(`${name}!`))
}
