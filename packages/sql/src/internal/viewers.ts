/**
 * Per-viewer clients for Posit Connect: one `SqlClient` per viewer, on `ConnectViewer.Viewers` (which
 * exchanges and caches their tokens), in an `RcMap`. The only module of this package that knows Posit
 * Connect: the client itself (connection, session pool, statements) never imports it.
 *
 * @internal
 */
import * as ConnectViewer from "@effect-databricks/auth/ConnectViewer"
import { type ConfigurationError, RateLimitError } from "@effect-databricks/auth/DatabricksError"
import * as TokenSource from "@effect-databricks/auth/TokenSource"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Equal from "effect/Equal"
import * as Hash from "effect/Hash"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as RcMap from "effect/RcMap"
import * as Redacted from "effect/Redacted"
import * as Crypto from "node:crypto"
import type { Options, Viewers as ViewersService } from "../SqlClient.js"
import { make } from "./client.js"
import { checkOptions } from "./clientOptions.js"
import * as Check from "./options.js"

/** `SqlClient.Viewers`. */
export const Viewers: Context.Tag<ViewersService, ViewersService> = Context.GenericTag<ViewersService>(
  "@effect-databricks/sql/SqlClient/Viewers"
)

/** Equal by a hash of the session token, so the map never holds it in a key's identity. */
class ViewerKey implements Equal.Equal {
  readonly id: string
  constructor(readonly token: Redacted.Redacted<string> | undefined) {
    this.id = token === undefined ? "" : Crypto.createHash("sha256").update(Redacted.value(token)).digest("hex")
  }
  [Equal.symbol](that: Equal.Equal): boolean {
    return that instanceof ViewerKey && that.id === this.id
  }
  [Hash.symbol](): number {
    return Hash.string(this.id)
  }
}

/** `SqlClient.layerViewers`. */
export const layer = (
  options: Options & {
    readonly maxViewers?: number | undefined
    readonly idleTimeToLive?: Duration.DurationInput | undefined
  }
): Layer.Layer<ViewersService, ConfigurationError, ConnectViewer.Viewers> =>
  Layer.scoped(
    Viewers,
    Effect.gen(function*() {
      // Checked once, up front: a bad option fails the layer rather than every viewer's first query.
      yield* checkOptions(options)
      yield* Check.count(Check.get(options, "maxViewers"), "maxViewers", 1_000_000)
      yield* Check.duration(Check.get(options, "idleTimeToLive"), "idleTimeToLive")
      const viewers = yield* ConnectViewer.Viewers
      // Read as checked: own properties only.
      const maxViewers = (Check.get(options, "maxViewers") as number | undefined) ?? 100
      const idleTimeToLive = (Check.get(options, "idleTimeToLive") as Duration.DurationInput | undefined) ??
        Duration.minutes(5)
      const clients = yield* RcMap.make({
        lookup: (key: ViewerKey) =>
          Effect.flatMap(viewers.sourceFor(key.token), (source) =>
            make(options).pipe(Effect.provideService(TokenSource.TokenSource, source))),
        idleTimeToLive,
        capacity: maxViewers
      })
      return {
        forViewer: (token) =>
          RcMap.get(clients, new ViewerKey(Option.isOption(token) ? Option.getOrUndefined(token) : token)).pipe(
            Effect.catchTag("ExceededCapacityException", () =>
              Effect.fail(
                new RateLimitError({
                  message: `More than ${maxViewers} viewers are querying at once`,
                  hint: "Raise maxViewers, or retry shortly"
                })
              ))
          )
      }
    })
  )
