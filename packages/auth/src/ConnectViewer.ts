/**
 * Databricks as the person viewing a Posit Connect app: the viewer's
 * user-session token is exchanged, through a Databricks OAuth integration,
 * for that viewer's own Databricks token.
 *
 * - On Connect (or Connect Cloud) it exchanges
 *   `urn:posit:connect:user-session-token`; off Connect it uses the `local`
 *   layer (U2MPkce, DatabricksCli, LocalM2M, ...).
 * - On Connect without a session token it fails: it **never** falls back to
 *   the service account.
 * - Exchanged tokens are cached per (hash of the session token, audience)
 *   until their expiry minus `refreshAhead`, in a bounded LRU, with one
 *   exchange at a time per viewer.
 * - In a web server, provide `layerViewers` once and wrap handlers with
 *   `withViewer`: each request's handler gets that viewer's `TokenSource`.
 *
 * @since 0.1.0
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Cache from "effect/Cache"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Equal from "effect/Equal"
import * as Exit from "effect/Exit"
import * as Hash from "effect/Hash"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Crypto from "node:crypto"
import * as ConnectEnvironment from "./ConnectEnvironment.js"
import { AuthenticationError, type ConfigurationError } from "./DatabricksError.js"
import * as Connect from "./internal/connect.js"
import * as ConnectApiKey from "./internal/connectApiKey.js"
import * as Expiry from "./internal/expiry.js"
import * as OptionChecks from "./internal/options.js"
import type * as Retry from "./internal/retry.js"
import * as TokenValue from "./internal/tokenValue.js"
import * as TokenSource from "./TokenSource.js"

/**
 * The header Connect adds to every request of a logged-in viewer.
 *
 * @since 0.1.0
 * @category constants
 */
export const headerName = "Posit-Connect-User-Session-Token"

/**
 * The viewer's session token from request headers (any letter case), if present.
 *
 * @since 0.1.0
 * @category utils
 */
export const userSessionToken = (
  headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
): Option.Option<Redacted.Redacted<string>> => {
  const wanted = headerName.toLowerCase()
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() !== wanted) continue
    const first = typeof value === "string" ? value : value?.[0]
    if (first !== undefined && first.trim() !== "") return Option.some(Redacted.make(first.trim()))
  }
  return Option.none()
}

/**
 * Shared settings of the viewer layers.
 *
 * @since 0.1.0
 * @category options
 */
export interface SharedOptions<E, R> {
  /** The credential to use off Connect (in development). */
  readonly local: Layer.Layer<TokenSource.TokenSource, E, R>
  /** The GUID of the OAuth integration to use, when several are associated with the content. */
  readonly audience?: string | undefined
  /** Stop using a cached token this long before it expires. Default 5 minutes. */
  readonly refreshAhead?: Duration.DurationInput | undefined
  /** How long to cache a token whose expiry is unknown. Default 2 minutes. */
  readonly ttlWithoutExpiry?: Duration.DurationInput | undefined
  /** Viewers kept in the cache. Default 1000. */
  readonly maxViewers?: number | undefined
  /** Default `CONNECT_SERVER`. */
  readonly server?: string | undefined
  /** Default `CONNECT_API_KEY`. */
  readonly apiKey?: Redacted.Redacted<string> | undefined
  readonly requestTimeout?: Duration.DurationInput | undefined
  readonly retry?: Retry.RetryOptions | undefined
}

/**
 * @since 0.1.0
 * @category options
 */
export interface Options<E, R> extends SharedOptions<E, R> {
  /** The viewer's session token (see `userSessionToken`); required on Connect. */
  readonly userSessionToken: Redacted.Redacted<string> | undefined
}

/**
 * One `TokenSource` per viewer, from a shared, bounded cache.
 *
 * @since 0.1.0
 * @category models
 */
export interface Viewers {
  /** The `TokenSource` of the viewer with this user-session token (the local one off Connect). */
  readonly sourceFor: (
    userSessionToken: Option.Option<Redacted.Redacted<string>> | Redacted.Redacted<string> | undefined
  ) => Effect.Effect<TokenSource.TokenSource, AuthenticationError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export const Viewers: Context.Tag<Viewers, Viewers> = Context.GenericTag<Viewers>(
  "@effect-databricks/auth/ConnectViewer/Viewers"
)

/** Cache key: equal by (hash of the token, audience); it carries the token for the exchange. */
class ViewerKey implements Equal.Equal {
  readonly id: string
  constructor(readonly token: Redacted.Redacted<string>, readonly audience: string | undefined) {
    this.id = `${Crypto.createHash("sha256").update(Redacted.value(token)).digest("hex")}|${audience ?? ""}`
  }
  [Equal.symbol](that: Equal.Equal): boolean {
    return that instanceof ViewerKey && that.id === this.id
  }
  [Hash.symbol](): number {
    return Hash.string(this.id)
  }
}

interface Entry {
  readonly token: TokenSource.AccessToken
  /** How long the cache may keep it. */
  readonly keepFor: Duration.Duration
}

const required = new AuthenticationError({
  message: "The user-session-token is required for viewer authentication",
  hint:
    `Pass the ${headerName} request header (ConnectViewer.userSessionToken(headers)); Connect sends it only to content with logged-in viewers`
})

const makeViewers = <E, R>(
  options: SharedOptions<E, R>
): Effect.Effect<Viewers, E | ConfigurationError, R | HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function*() {
    const kind = yield* ConnectEnvironment.current
    if (!ConnectEnvironment.isConnect(kind)) {
      const local = yield* Layer.build(options.local).pipe(Effect.map(Context.get(TokenSource.TokenSource)))
      yield* Effect.logInfo(
        `ConnectViewer: not on Posit Connect (${kind}); using the local ${local.authType} credential`
      )
      return { sourceFor: () => Effect.succeed(local) }
    }
    yield* OptionChecks.durations(options, ["refreshAhead", "ttlWithoutExpiry", "requestTimeout"])
    yield* ConnectApiKey.check(options)
    const client = yield* Connect.make(options)
    const refreshAhead = Duration.toMillis(Duration.decode(options.refreshAhead ?? Duration.minutes(5)))
    const fallbackTtl = Duration.decode(options.ttlWithoutExpiry ?? Duration.minutes(2))
    const cache = yield* Cache.makeWith({
      capacity: options.maxViewers ?? 1000,
      lookup: (key: ViewerKey) =>
        Effect.gen(function*() {
          const exchanged = yield* client.exchange({
            subjectTokenType: Connect.userSessionTokenType,
            subjectToken: key.token,
            audience: key.audience
          })
          const value = yield* TokenValue.issued(exchanged.accessToken, "Posit Connect's credential exchange")
          const now = yield* Clock.currentTimeMillis
          // `expires_in: 1e20` or a JWT `exp: 1e20` is clamped by the one expiry rule (it used to be a defect).
          const expiry = yield* Expiry.resolve({ expiresIn: exchanged.expiresIn, token: Redacted.value(value) }, now)
          if (Option.isNone(expiry)) {
            return { token: { value, expiresAt: Option.none() }, keepFor: fallbackTtl } satisfies Entry
          }
          const lifetime = DateTime.toEpochMillis(expiry.value) - now
          // Like TokenSource.make: a token shorter-lived than refreshAhead is kept for half its life.
          const keep = lifetime > refreshAhead ? lifetime - refreshAhead : lifetime / 2
          return {
            token: { value, expiresAt: expiry },
            keepFor: Duration.millis(Math.max(0, keep))
          } satisfies Entry
        }),
      timeToLive: (exit) => Exit.isSuccess(exit) ? exit.value.keepFor : Duration.zero
    })
    const sourceFor = (token: Option.Option<Redacted.Redacted<string>> | Redacted.Redacted<string> | undefined) => {
      const given: unknown = Option.isOption(token) ? Option.getOrUndefined(token) : token
      // Untyped callers may pass the header's plain string: wrapped, never a defect.
      const value = typeof given === "string"
        ? Redacted.make(given.trim())
        : Redacted.isRedacted(given) && typeof Redacted.value(given) === "string"
        ? given as Redacted.Redacted<string>
        : undefined
      if (value === undefined || Redacted.value(value).trim() === "") return Effect.fail(required)
      const key = new ViewerKey(value, options.audience)
      return Effect.succeed<TokenSource.TokenSource>({
        authType: "posit-oauth-integration",
        token: Effect.map(cache.get(key), (entry) => entry.token),
        invalidate: cache.invalidate(key)
      })
    }
    return { sourceFor }
  })

/**
 * The shared per-viewer cache, for web servers: provide it once, then use
 * `withViewer` (or `Viewers.sourceFor`) per request.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerViewers = <E, R>(
  options: SharedOptions<E, R>
): Layer.Layer<Viewers, E | ConfigurationError, R | HttpClient.HttpClient> =>
  Layer.scoped(Viewers, makeViewers(options))

/**
 * A `TokenSource` for one viewer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <E, R>(
  options: Options<E, R>
): Layer.Layer<TokenSource.TokenSource, E | ConfigurationError | AuthenticationError, R | HttpClient.HttpClient> =>
  Layer.scoped(
    TokenSource.TokenSource,
    Effect.flatMap(
      makeViewers({ ...options, maxViewers: options.maxViewers ?? 1 }),
      (viewers) => viewers.sourceFor(options.userSessionToken)
    )
  )

/**
 * Gives a handler the `TokenSource` of the viewer who sent the request,
 * from the `Posit-Connect-User-Session-Token` header and the shared
 * `Viewers` cache. On Connect, a request without the header fails with
 * `AuthenticationError` (never the service account).
 *
 * @since 0.1.0
 * @category http
 */
export const withViewer = <E, R>(
  app: HttpApp.Default<E, R>
): HttpApp.Default<E | AuthenticationError, Exclude<R, TokenSource.TokenSource> | Viewers> =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const viewers = yield* Viewers
    const source = yield* viewers.sourceFor(userSessionToken(request.headers))
    return yield* Effect.provideService(app, TokenSource.TokenSource, source)
  }) as HttpApp.Default<E | AuthenticationError, Exclude<R, TokenSource.TokenSource> | Viewers>
