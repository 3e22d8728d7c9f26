#!/bin/sh
# The install commands of docs/getting-started.md.
# region app
npm install @effect-databricks/auth @effect-databricks/sql "effect@^3.22" "@effect/platform@^0.97" "@effect/platform-node@^0.108"
# endregion
# region dev
npm install --save-dev @effect-databricks/testing @effect/vitest vitest
# endregion
