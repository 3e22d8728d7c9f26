import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { program } from "../examples/getting-started.js"

describe("docs/examples/getting-started.ts", () => {
  it.live("answers three zip codes with their trip counts, busiest first", () =>
    Effect.gen(function*() {
      const rows = yield* program
      assert.lengthOf(rows, 3)
      const trips = rows.map((row) => row.trips as bigint)
      assert.strictEqual(typeof trips[0], "bigint", "count(*) is a BIGINT, returned as a bigint")
      assert.isTrue(trips[0] >= trips[1] && trips[1] >= trips[2])
    }))
})
