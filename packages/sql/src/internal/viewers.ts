/**
 * Per-viewer clients: one `SqlClient` (and `@effect/sql`'s over it) per `Viewer.ViewerKey`, in an `RcMap`, each
 * on the viewer's token source from the one `Viewer.Viewers` cache (Posit Connect, Databricks Apps, custom
 * servers alike). The only module of this package that knows viewers: the client itself (connection, session
 * pool, statements) never imports it.
 *
 * @internal
 */
import {
  type AuthenticationError,
  type ConfigurationError,
  RateLimitError
} from "@effect-databricks/auth/DatabricksError"
import * as TokenSource from "@effect-databricks/auth/TokenSource"
import * as Viewer from "@effect-databricks/auth/Viewer"
import * as WorkspaceHost from "@effect-databricks/auth/WorkspaceHost"
import * as Reactivity from "@effect/experimental/Reactivity"
import type * as EffectSqlClient from "@effect/sql/SqlClient"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Equal from "effect/Equal"
import * as Hash from "effect/Hash"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as RcMap from "effect/RcMap"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import type { Options, SqlClient, Viewers as ViewersService, ViewersOptions } from "../SqlClient.js"
import { make } from "./client.js"
import { checkOptions } from "./clientOptions.js"
import * as EffectSql from "./effectSql.js"
import * as Check from "./options.js"

/** `SqlClient.Viewers`. */
export const Viewers: Context.Tag<ViewersService, ViewersService> = Context.GenericTag<ViewersService>(
  "@effect-databricks/sql/SqlClient/Viewers"
)

/** What `forViewer` takes: a resolved viewer, or (as before the model) a Connect session token. */
export type ViewerInput =
  | Viewer.Viewer
  | Option.Option<Redacted.Redacted<string>>
  | Redacted.Redacted<string>
  | undefined

const isViewer = (input: unknown): input is Viewer.Viewer =>
  typeof input === "object" && input !== null && (input as { key?: unknown }).key instanceof Viewer.ViewerKey

/** Equal by the viewer's key; it carries the viewer whose token source the client is built on. */
class Slot implements Equal.Equal {
  constructor(readonly viewer: Viewer.Viewer) {}
  [Equal.symbol](that: Equal.Equal): boolean {
    return that instanceof Slot && that.viewer.key.id === this.viewer.key.id
  }
  [Hash.symbol](): number {
    return Hash.string(this.viewer.key.id)
  }
}

interface Clients {
  readonly client: SqlClient
  readonly sql: EffectSqlClient.SqlClient
}

/** `SqlClient.toEffectSql`: `@effect/sql`'s client over one of ours (its Reactivity, if provided, else its own). */
export const toEffectSql = (
  client: SqlClient,
  options: Pick<Options, "host" | "catalog" | "schema">
): Effect.Effect<EffectSqlClient.SqlClient, ConfigurationError> =>
  Effect.gen(function*() {
    const host = yield* WorkspaceHost.make(options.host, { setting: "host" })
    const reactivity = yield* Effect.serviceOption(Reactivity.Reactivity)
    return yield* EffectSql.make(client, {
      hostname: host.hostname,
      port: host.port,
      catalog: options.catalog,
      schema: options.schema
    }).pipe(Effect.provideServiceEffect(
      Reactivity.Reactivity,
      Option.match(reactivity, {
        onNone: () => Reactivity.make,
        onSome: Effect.succeed
      })
    ))
  })

/** `SqlClient.layerViewers`. */
export const layer = (
  options: Options & ViewersOptions
): Layer.Layer<ViewersService, ConfigurationError, Viewer.Viewers> =>
  Layer.scoped(
    Viewers,
    Effect.gen(function*() {
      // Checked once, up front: a bad option fails the layer rather than every viewer's first query.
      yield* checkOptions(options)
      yield* Check.count(Check.get(options, "maxViewers"), "maxViewers", 1_000_000)
      yield* Check.duration(Check.get(options, "idleTimeToLive"), "idleTimeToLive")
      const host = yield* WorkspaceHost.make(options.host, { setting: "host" })
      const viewers = yield* Viewer.Viewers
      // One maxViewers and one idleTimeToLive: the viewers cache's, unless given here. Read as checked.
      const maxViewers = (Check.get(options, "maxViewers") as number | undefined) ?? viewers.maxViewers
      const idleTimeToLive = (Check.get(options, "idleTimeToLive") as Duration.DurationInput | undefined) ??
        viewers.idleTimeToLive
      // One Reactivity for every viewer: a write by one invalidates the reactive queries of all (same tables).
      const reactivity = yield* Reactivity.make
      const clients = yield* RcMap.make({
        lookup: (slot: Slot) =>
          Effect.gen(function*() {
            const client = yield* make(options).pipe(
              Effect.provideService(TokenSource.TokenSource, slot.viewer.tokenSource)
            )
            const sql = yield* EffectSql.make(client, {
              hostname: host.hostname,
              port: host.port,
              catalog: options.catalog,
              schema: options.schema
            }).pipe(Effect.provideService(Reactivity.Reactivity, reactivity))
            return { client, sql } satisfies Clients
          }),
        idleTimeToLive,
        capacity: maxViewers
      })
      const viewerOf = (input: ViewerInput): Effect.Effect<Viewer.Viewer, AuthenticationError> =>
        isViewer(input)
          ? Effect.succeed(input)
          : viewers.resolve(
            viewers.environment === "local"
              ? Viewer.local
              : Viewer.connectSession(input as Redacted.Redacted<string>)
          )
      const clientsFor = (
        input: ViewerInput
      ): Effect.Effect<Clients, AuthenticationError | ConfigurationError | RateLimitError, Scope.Scope> =>
        Effect.flatMap(viewerOf(input), (viewer) =>
          RcMap.get(clients, new Slot(viewer)).pipe(
            Effect.catchTag("ExceededCapacityException", () =>
              Effect.fail(
                new RateLimitError({
                  message: `More than ${maxViewers} viewers are querying at once`,
                  hint: "Raise maxViewers, or retry shortly"
                })
              ))
          ))
      return {
        maxViewers,
        idleTimeToLive: Duration.decode(idleTimeToLive),
        forViewer: (input) => Effect.map(clientsFor(input), (c) => c.client),
        effectSqlFor: (input) => Effect.map(clientsFor(input), (c) => c.sql)
      }
    })
  )
