#!/bin/sh
# The install commands of docs/getting-started.md.
# region app
npm install @effect-databricks/auth @effect-databricks/sql effect @effect/platform @effect/platform-node
# endregion
# region dev
npm install --save-dev @effect-databricks/testing @effect/vitest vitest
# endregion
