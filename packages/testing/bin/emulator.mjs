#!/usr/bin/env node
// Workspace entry point for `pnpm emulator`: runs the TypeScript source through tsx, so it needs no build.
// The published package's bin is build/esm/bin/emulator.js instead (see publishConfig).
import { register } from "tsx/esm/api"

register()
await import("../src/bin/emulator.ts")
