// The layers of src/, lowest first: a module may import from its own folder and from
// lower layers, never from a higher one or a sibling in its layer. ARCHITECTURE.md says
// what each folder holds. The top-level modules of src/ (errors, canonical, file-names,
// globs, version, load-cjs, multiset, inherited-descriptors...) are the base every layer
// may use.
const LAYERS = [
  ['io', 'formats'],
  ['config'],
  ['sandbox'],
  ['digest'],
  ['diff', 'normalize'],
  ['records'],
  ['sign'],
  ['attest'],
  ['twin'],
  ['verify'],
  ['gate'],
  ['cli'],
  ['action'],
]

const folder = (names) => `^src/(?:${names.join('|')})/`

const layering = LAYERS.map((layer, i) => {
  const above = LAYERS.slice(i + 1).flat()
  return {
    name: `layer-${layer.join('-')}`,
    comment: `${layer.join(' and ')} may not import from a higher layer (${above.join(', ') || 'none'}) or a sibling in its layer`,
    severity: 'error',
    // The group names the importer's own folder, which it may always import from.
    from: { path: `^src/(${layer.join('|')})/` },
    to: {
      path: folder([...above, ...layer]),
      pathNot: '^src/$1/',
    },
  }
})

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No module depends on itself through others, type-only imports included',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'base-imports-no-layer',
      comment: 'The top-level modules of src/ are the base: they import no folder of src/',
      severity: 'error',
      from: { path: '^src/[^/]+\\.ts$' },
      to: { path: '^src/[^/]+/' },
    },
    ...layering,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    // Type-only imports count: a cycle of types is still a cycle a reader must untangle.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
}
