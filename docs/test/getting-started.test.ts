import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { program } from "../examples/getting-started.js"

describe("docs/examples/getting-started.ts", () => {
  it.live("answers the three zip codes with the most in fares, highest first, with their trip counts", () =>
    Effect.gen(function*() {
      const rows = yield* program
      // The sample table is deterministic (Emulator's make.ts): these three lead with no tie among them or with
      // the fourth (10031, $308.00), so a wrong ORDER BY or LIMIT cannot give the same answer.
      assert.deepStrictEqual(rows, [
        { pickup_zip: 10090, trips: 11n, fares: 317.9 },
        { pickup_zip: 10016, trips: 11n, fares: 313.5 },
        { pickup_zip: 10015, trips: 11n, fares: 312.4 }
      ])
      assert.strictEqual(typeof rows[0].trips, "bigint", "count(*) is a BIGINT, returned as a bigint")
    }))
})
