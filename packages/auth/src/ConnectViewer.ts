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
 * - Built on the one per-request identity model, `Viewer`: a Connect viewer
 *   is a `Viewer.connectSession`, and `layerViewers` is the one `Viewers`
 *   cache (keyed by a hash of the session token and the audience; each entry
 *   a `TokenSource.make`, so one exchange at a time per viewer and
 *   refresh-ahead; at most `maxViewers`, closed after `idleTimeToLive`
 *   unused), recognising Connect only.
 * - In a web server, provide `layerViewers` once and wrap handlers with
 *   `withViewer` (or use `ViewerMiddleware`): each request's handler gets
 *   that viewer's `TokenSource`.
 *
 * @since 0.1.0
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import type { AuthenticationError, ConfigurationError } from "./DatabricksError.js"
import type * as Retry from "./internal/retry.js"
import * as ViewerCache from "./internal/viewerCache.js"
import * as TokenSource from "./TokenSource.js"
import * as Viewer from "./Viewer.js"

/**
 * The header Connect adds to every request of a logged-in viewer.
 *
 * @since 0.1.0
 * @category constants
 */
export const headerName = ViewerCache.connectHeaderName

/**
 * The viewer's session token from request headers (any letter case), if present.
 *
 * @since 0.1.0
 * @category utils
 */
export const userSessionToken: (
  headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
) => Option.Option<Redacted.Redacted<string>> = ViewerCache.userSessionToken

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
  /** Refresh a viewer's token in the background this long before it expires. Default 5 minutes (at least 60 s). */
  readonly refreshAhead?: Duration.DurationInput | undefined
  /** How long to treat a token whose expiry is unknown as valid. Default 2 minutes. */
  readonly ttlWithoutExpiry?: Duration.DurationInput | undefined
  /** Viewers kept in the cache, least recently used evicted first. Default 1000 (`Viewer.Options`). */
  readonly maxViewers?: number | undefined
  /**
   * A viewer unused this long is dropped from the cache. Default 5 minutes.
   *
   * @since 0.3.0
   */
  readonly idleTimeToLive?: Duration.DurationInput | undefined
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
 * The one per-viewer cache, `Viewer.Viewers` (its `sourceFor` takes a Connect
 * session token).
 *
 * @since 0.1.0
 * @category models
 */
export type Viewers = Viewer.Viewers

/**
 * The same tag as `Viewer.Viewers`: a layer of either provides both.
 *
 * @since 0.1.0
 * @category tags
 */
export const Viewers: Context.Tag<Viewers, Viewers> = Viewer.Viewers

/** ConnectViewer's flat options as the model's. */
const toViewerOptions = <E, R>(options: SharedOptions<E, R>): Viewer.Options<E, R> => ({
  local: options.local,
  maxViewers: options.maxViewers,
  idleTimeToLive: options.idleTimeToLive,
  refreshAhead: options.refreshAhead,
  ttlWithoutExpiry: options.ttlWithoutExpiry,
  connect: {
    audience: options.audience,
    server: options.server,
    apiKey: options.apiKey,
    requestTimeout: options.requestTimeout,
    retry: options.retry
  }
})

const connectOnly: ViewerCache.Flavour = { name: "ConnectViewer", databricksApps: false }

const makeViewers = <E, R>(
  options: SharedOptions<E, R>
): Effect.Effect<Viewers, E | ConfigurationError, R | HttpClient.HttpClient | Scope.Scope> =>
  ViewerCache.make(toViewerOptions(options), connectOnly)

/**
 * The shared per-viewer cache, for web servers: provide it once, then use
 * `withViewer` (or `Viewers.sourceFor`) per request. It is `Viewer.layer`
 * recognising Posit Connect only (elsewhere, Databricks Apps included, it
 * uses `local`); it provides `Viewer.Viewers`, so `SqlClient.layerViewers`
 * and `ViewerMiddleware` work on it.
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
