import type { ArtifactPlaces, Manifest } from '../digest/manifest.js'
import { compareNames, isUtf8Name, toDisplayText } from '../file-names.js'
import { normalizeArtifacts } from './normalize-artifacts.js'
import type { NormalizedManifests } from '../records/build-record.js'

/**
 * normalizeArtifacts, for the artifacts it can open: the normalizers take string paths,
 * which cannot name a file whose name (or whose place, for one reached through a link)
 * is not UTF-8. Those artifacts keep their raw digests and are compared as they are:
 * stricter, never wrong. Where the two runs' copies differ, a warning says that
 * normalization might have reconciled them.
 */
export async function normalizeOpenableArtifacts(
  places: { a: ArtifactPlaces; b: ArtifactPlaces },
  raw: { a: Manifest; b: Manifest },
  epoch: number,
): Promise<NormalizedManifests> {
  const opens = (name: string): boolean =>
    isUtf8Name(name) &&
    [places.a, places.b].every(
      (p) => typeof p.at(name) === 'string' && typeof p.readFrom(name) === 'string',
    )
  const openable = (m: Manifest): Manifest => m.filter((e) => opens(e.name))
  const others = (m: Manifest): Manifest => m.filter((e) => !opens(e.name))
  const normalized = await normalizeArtifacts(
    places,
    { a: openable(raw.a), b: openable(raw.b) },
    epoch,
  )
  const merge = (done: Manifest, rest: Manifest): Manifest =>
    [...done, ...rest].sort((x, y) => compareNames(x.name, y.name))
  const inB = new Map(others(raw.b).map((e) => [e.name, e.sha256]))
  const differing = others(raw.a).filter((e) => inB.has(e.name) && inB.get(e.name) !== e.sha256)
  return {
    ...normalized,
    a: merge(normalized.a, others(raw.a)),
    b: merge(normalized.b, others(raw.b)),
    warnings: [
      ...normalized.warnings,
      ...differing.map(
        (e) =>
          `${toDisplayText(e.name)} was not normalized (${isUtf8Name(e.name) ? 'a link leads to it by a name that' : 'its name'} is not UTF-8); its raw digests are compared`,
      ),
    ],
  }
}
