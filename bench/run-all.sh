#!/usr/bin/env bash
# Runs every benchmark in one go; paste the output into bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build >/dev/null
echo "# $(date -u +%Y-%m-%d) node $(node --version), $(nproc) cores"
node bench/overhead.mjs
node bench/snapshot.mjs
node bench/hashing.mjs
node bench/verify.mjs
node bench/gate.mjs
node bench/compile-cache.mjs
node bench/explain.mjs
