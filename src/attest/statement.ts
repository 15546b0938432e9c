import type { BuildRecord } from '../records/build-record.js'
import { canonicalJson } from '../canonical.js'
import { sha256Hex } from '../sha256.js'

/** The build type reproof's provenance declares; docs/build-type.md says how to rebuild from it. */
export const BUILD_TYPE = 'https://reproof.dev/build-types/twin-build/v1'
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1'
export const PROVENANCE_TYPE = 'https://slsa.dev/provenance/v1'

/** Facts from outside the build record, read at the CLI edge and passed in. */
export interface AttestContext {
  /** Who built: the CI workflow identity, or --builder-id. */
  builderId: string
  /** The CI run, when there is one. */
  invocationId?: string
  /** SHA-512 of shipped artifacts, by name, when asked for. */
  sha512?: Readonly<Record<string, string>>
  /**
   * Who made the statement of the runs: the build that ran them, or `reproof attest`
   * from a record file, whose every claim is that file's word (anyone who could write it
   * could have written it otherwise). Signed, so that a verifier can tell the two.
   */
  attestedBy: 'reproof build' | 'reproof attest'
}

export interface ResourceDescriptor {
  name?: string
  uri?: string
  digest?: Record<string, string>
  content?: string
  mediaType?: string
  annotations?: Record<string, unknown>
}

export interface Statement {
  _type: typeof STATEMENT_TYPE
  subject: { name: string; digest: Record<string, string> }[]
  predicateType: typeof PROVENANCE_TYPE
  predicate: {
    buildDefinition: {
      buildType: string
      externalParameters: Record<string, unknown>
      internalParameters: Record<string, unknown>
      resolvedDependencies: ResourceDescriptor[]
    }
    runDetails: {
      builder: { id: string; version: Record<string, string> }
      metadata: { invocationId?: string; startedOn: string; finishedOn: string }
      byproducts: ResourceDescriptor[]
    }
  }
}

/** One run's shipped (normalized) digests: the evidence a verifier checks subjects against. */
export interface RunEvidence {
  run: 'a' | 'b'
  artifacts: { name: string; sha256: string }[]
}

/**
 * The in-toto Statement with its SLSA v1 provenance: a pure function of the build
 * record and the context. Subjects are the artifacts as shipped (normalized when a
 * normalizer changed them), and the byproducts carry both runs' manifests in full, so
 * that a verifier can see that two runs produced every subject digest.
 */
export function toStatement(record: BuildRecord, context: AttestContext): Statement {
  const evidence = runEvidence(record)
  const shipped = evidence[0]?.artifacts ?? []
  return {
    _type: STATEMENT_TYPE,
    subject: shipped.map((a) => ({
      name: a.name,
      digest: {
        sha256: a.sha256,
        ...(context.sha512?.[a.name] === undefined ? {} : { sha512: context.sha512[a.name] }),
      },
    })),
    predicateType: PROVENANCE_TYPE,
    predicate: {
      buildDefinition: buildDefinition(record, context),
      runDetails: runDetails(record, context, evidence),
    },
  }
}

type Provenance = Statement['predicate']

/** What was built and how: the parameters a rebuilder repeats, and the inputs by digest. */
function buildDefinition(
  record: BuildRecord,
  context: AttestContext,
): Provenance['buildDefinition'] {
  const git = record.source.git
  return {
    buildType: BUILD_TYPE,
    externalParameters: {
      command: record.command,
      source: {
        ...(git?.repository === undefined ? {} : { uri: gitUri(git.repository) }),
        ...(git === undefined ? {} : { commit: git.commit }),
        ...(git?.ref === undefined ? {} : { ref: git.ref }),
        // Where in the commit the build ran: a rebuild runs the command there too.
        ...(git?.subdirectory === undefined ? {} : { subdirectory: git.subdirectory }),
      },
      outputs: record.outputs,
      ...(record.exclude.length === 0 ? {} : { exclude: record.exclude }),
      // Normalization that is part of the build is part of its definition: a
      // rebuilder must repeat it to get the same subjects.
      ...(record.normalization === null ? {} : { normalize: true }),
    },
    internalParameters: {
      attestedBy: context.attestedBy,
      epoch: record.epoch,
      environment: record.environment,
      // A variation's note says where it held only in part (files both runs wrote in
      // the same second; tools that run on the real clock): evidence, so signed too.
      variations: record.variations.map((v) => ({
        name: v.name,
        status: v.status,
        ...(v.note === undefined ? {} : { note: v.note }),
      })),
      // Which default variations a no-vary list (the source tree's own, say) turned off.
      ...(record.turnedOff === undefined || record.turnedOff.length === 0
        ? {}
        : { turnedOff: record.turnedOff }),
      // With what the sandbox could not do here (a socket left reachable, a mount left
      // writable): `network: none` alone said more than was true.
      isolation: {
        kind: record.isolation.kind,
        network: record.isolation.network,
        ...(record.isolation.notes.length === 0 ? {} : { notes: record.isolation.notes }),
        ...(record.isolation.kind === 'process' ? { reason: record.isolation.reason } : {}),
      },
      normalization: normalizationParameters(record),
      dirty: git?.dirty ?? null,
    },
    resolvedDependencies: [
      ...(git === undefined ? [] : sourceDependency(git)),
      ...record.source.lockfiles.map((l) => ({ name: l.path, digest: { sha256: l.sha256 } })),
    ],
  }
}

/** The normalization the build did, with what each normalizer changed in the shipped copy. */
function normalizationParameters(record: BuildRecord) {
  if (record.normalization === null) return null
  const normalizers = [
    ...new Set(
      record.normalization.artifacts
        .filter((a) => a.changes.some((c) => c.length > 0))
        .map((a) => a.format),
    ),
  ].sort()
  return {
    mode: record.normalization.mode,
    ...(record.normalization.by === undefined ? {} : { by: record.normalization.by }),
    normalizers,
    // Every artifact the record names, as each run wrote it and as normalized, and what
    // changed in each: one that only run B's copy needed changed in (a setuid bit set in
    // that run alone) was left out, and a verifier could not tell which subject differed
    // raw, nor how.
    artifacts: record.normalization.artifacts.map((a) => ({
      name: a.name,
      format: a.format,
      raw: a.raw,
      normalized: a.normalized,
      changes: a.changes,
    })),
    ...((record.normalization.warnings ?? []).length === 0
      ? {}
      : { warnings: record.normalization.warnings }),
  }
}

/** Who built it, when, and both runs' manifests in full as byproducts. */
function runDetails(
  record: BuildRecord,
  context: AttestContext,
  evidence: readonly RunEvidence[],
): Provenance['runDetails'] {
  return {
    builder: { id: context.builderId, version: { reproof: record.reproofVersion } },
    metadata: {
      ...(context.invocationId === undefined ? {} : { invocationId: context.invocationId }),
      startedOn: record.startedAt,
      finishedOn: record.finishedAt,
    },
    byproducts: evidence.map((e) => {
      const manifest = canonicalJson(e.artifacts)
      return {
        name: `reproof/run-${e.run}/manifest.json`,
        digest: { sha256: sha256Hex(manifest) },
        content: Buffer.from(manifest).toString('base64'),
        mediaType: 'application/json',
        annotations: {
          rawManifestSha256: record.runs.find((r) => r.id === e.run)?.manifestDigest ?? null,
          reproducible: record.result.reproducible,
          reproducibleWithoutNormalization: record.result.reproducibleWithoutNormalization,
        },
      }
    }),
  }
}

/** Each run's artifacts with the digests that ship: normalized where a normalizer ran. */
export function runEvidence(record: BuildRecord): RunEvidence[] {
  const normalized = new Map(
    (record.normalization?.artifacts ?? []).map((a) => [a.name, a.normalized]),
  )
  return record.runs.map((run) => ({
    run: run.id,
    artifacts: run.manifest.map((e) => ({
      name: e.name,
      sha256: normalized.get(e.name)?.[run.id === 'a' ? 0 : 1] ?? e.sha256,
    })),
  }))
}

/** SLSA's convention for git sources: `git+https://...`. */
export function gitUri(repository: string): string {
  return repository.startsWith('git+') ? repository : `git+${repository}`
}

/** The exact bytes that are signed: canonical JSON, so the same inputs give the same bytes. */
export function statementBytes(statement: Statement): Buffer {
  return Buffer.from(canonicalJson(statement), 'utf8')
}

/**
 * The source as a resolved dependency: the commit, by its digest. A build of a tree with
 * uncommitted changes was not a build of that commit, and a consumer reads this entry as
 * what was built: it names the repository only, without a digest, and says so in its
 * annotations (with no repository to name, there is no entry).
 */
function sourceDependency(git: NonNullable<BuildRecord['source']['git']>): ResourceDescriptor[] {
  if (git.dirty)
    return git.repository === undefined
      ? []
      : [
          {
            uri: gitUri(git.repository),
            name: 'source',
            annotations: { dirty: true, basedOnCommit: git.commit },
          },
        ]
  return [
    {
      ...(git.repository === undefined ? {} : { uri: `${gitUri(git.repository)}@${git.commit}` }),
      name: 'source',
      digest: { gitCommit: git.commit },
    },
  ]
}
