#!/usr/bin/env bash
# Until the packages are published: build and pack them in a clone, then install the tarballs into another project.
# README.md's "Install" section shows the two regions below (kept equal by scripts/docs-snippets.mjs), and
# scripts/pack-smoke.mjs (`pnpm smoke`, run by CI through `pnpm release`) runs this file, so they are tested.
# Usage: bash scripts/install-from-clone.sh <tarballs folder> <your project folder>   (absolute or relative paths)
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: bash scripts/install-from-clone.sh <tarballs folder> <your project folder>" >&2
  exit 2
fi
mkdir -p "$1" "$2"
tarballs=$(cd "$1" && pwd)
app=$(cd "$2" && pwd)

cd "$(dirname "$0")/.."
# region pack
npx -y pnpm@10 install --frozen-lockfile
npx -y pnpm@10 build
npx -y pnpm@10 --filter "./packages/*" pack --pack-destination "$tarballs"
# endregion

cd "$app"
[ -f package.json ] || npm init -y >/dev/null
# region install
npm install "$tarballs"/effect-databricks-auth-*.tgz "$tarballs"/effect-databricks-sql-*.tgz \
  effect@^3.22 @effect/platform@^0.97 @effect/platform-node@^0.108 @effect/sql@^0.52.1 @effect/experimental@^0.61.1
npm install --save-dev "$tarballs"/effect-databricks-testing-*.tgz
# endregion
