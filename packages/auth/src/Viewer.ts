/**
 * The identity of one request: the person a data app acts for. One model for
 * every platform:
 *
 * - **Posit Connect**: the viewer's `Posit-Connect-User-Session-Token`,
 *   exchanged for their own Databricks token (`connectSession`).
 * - **Databricks Apps**: the viewer's token the Apps proxy forwards in
 *   `X-Forwarded-Access-Token`, used as is (`forwarded`).
 * - **Custom servers**: any `TokenSource` (or token fetch) you supply, under
 *   a key of your own (`custom`).
 * - **Local development**: off both platforms, the configured `local`
 *   credential (`local`), said so in a log line when the layer starts.
 *
 * `layer` builds the one `Viewers` cache: an `RcMap` keyed by `ViewerKey`
 * whose entries are `TokenSource.make` sources (single flight, refresh-ahead),
 * at most `maxViewers` (least recently used evicted first) and closed
 * `idleTimeToLive` after their last use. `Viewers.fromHeaders` reads the
 * platform's headers; on a platform a request without them fails with an
 * `AuthenticationError`: the app's own identity never stands in for a viewer.
 * `ViewerMiddleware` does it for `HttpRouter` and `HttpApi`, and
 * `SqlClient.layerViewers` keeps one SQL client per `ViewerKey`.
 *
 * @since 0.3.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Equal from "effect/Equal"
import * as Hash from "effect/Hash"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Crypto from "node:crypto"
import type { AuthenticationError, ConfigurationError } from "./DatabricksError.js"
import type * as Retry from "./internal/retry.js"
import * as internal from "./internal/viewerCache.js"
import * as TokenSource from "./TokenSource.js"

/**
 * Where the app runs, as far as viewers are concerned: the platform that
 * tells it who the viewer is, or `local` (development, Workbench, CI).
 *
 * @since 0.3.0
 * @category models
 */
export type Environment = "connect" | "databricks-apps" | "local"

/**
 * How a viewer's identity was obtained.
 *
 * @since 0.3.0
 * @category models
 */
export type Kind = "connect" | "databricks-apps" | "custom" | "local"

/**
 * The cache key of a viewer: equal for the same viewer across requests, and
 * secret-free (a SHA-256 of what identifies them, under their kind). A
 * Connect viewer is keyed by their session token and the audience, a
 * Databricks Apps viewer by `X-Forwarded-User`, a custom viewer by the key
 * you give.
 *
 * @since 0.3.0
 * @category models
 */
export class ViewerKey implements Equal.Equal {
  /**
   * `<kind>:<sha256 hex>`; never the secret itself.
   *
   * @since 0.3.0
   */
  readonly id: string
  /**
   * @since 0.3.0
   */
  constructor(readonly kind: Kind, material: string) {
    this.id = kind === "local" ? "local" : `${kind}:${Crypto.createHash("sha256").update(material).digest("hex")}`
  }
  /**
   * @since 0.3.0
   */
  [Equal.symbol](that: Equal.Equal): boolean {
    return that instanceof ViewerKey && that.id === this.id
  }
  /**
   * @since 0.3.0
   */
  [Hash.symbol](): number {
    return Hash.cached(this, Hash.string(this.id))
  }
  /**
   * @since 0.3.0
   */
  toString(): string {
    return `ViewerKey(${this.id})`
  }
  /**
   * @since 0.3.0
   */
  toJSON(): unknown {
    return { _id: "ViewerKey", id: this.id }
  }
}

/**
 * The viewer's Posit Connect user-session token, to exchange.
 *
 * @since 0.3.0
 * @category credentials
 */
export interface ConnectSession {
  readonly _tag: "ConnectSession"
  readonly userSessionToken: Redacted.Redacted<string>
  /** The OAuth integration's GUID, when several are associated with the content. */
  readonly audience: string | undefined
}

/**
 * The viewer's workspace token as Databricks Apps forwarded it, used as is.
 *
 * @since 0.3.0
 * @category credentials
 */
export interface Forwarded {
  readonly _tag: "Forwarded"
  /** `X-Forwarded-User`: stable across requests, unlike the token. */
  readonly user: string
  /** A name to show (the email or preferred username), when known. */
  readonly name: Option.Option<string>
  /** Used as is; once the workspace refused it, refused until a request forwards another. */
  readonly token: Redacted.Redacted<string>
}

/**
 * A viewer your own server identified, with a token source or fetch you supply.
 *
 * @since 0.3.0
 * @category credentials
 */
export interface Custom {
  readonly _tag: "Custom"
  /** Stable per viewer and not secret (a user id): requests with the same key share one cache entry. */
  readonly key: string
  readonly name: Option.Option<string>
  /**
   * A `TokenSource` of the viewer, or a fetch of their token that the cache
   * wraps in `TokenSource.make` (single flight, refresh-ahead).
   */
  readonly token: TokenSource.TokenSource | Effect.Effect<TokenSource.IssuedToken, AuthenticationError>
  /** Default `"custom"`, or the source's own. */
  readonly authType: string | undefined
}

/**
 * The app's configured local credential (development only).
 *
 * @since 0.3.0
 * @category credentials
 */
export interface Local {
  readonly _tag: "Local"
}

/**
 * What identifies a viewer, before the cache turns it into a `Viewer`.
 *
 * @since 0.3.0
 * @category credentials
 */
export type Credential = ConnectSession | Forwarded | Custom | Local

/**
 * @since 0.3.0
 * @category credentials
 */
export const connectSession = (
  userSessionToken: Redacted.Redacted<string>,
  options?: { readonly audience?: string | undefined }
): ConnectSession => ({ _tag: "ConnectSession", userSessionToken, audience: options?.audience })

/**
 * A Databricks Apps viewer (see `DatabricksApps.viewerFromHeaders`).
 *
 * @since 0.3.0
 * @category credentials
 */
export const forwarded = (options: {
  readonly user: string
  readonly token: Redacted.Redacted<string>
  readonly name?: string | undefined
}): Forwarded => ({
  _tag: "Forwarded",
  user: options.user,
  token: options.token,
  name: Option.fromNullable(options.name)
})

/**
 * A viewer of a custom server: `key` says who they are (a stable user id),
 * `token` how to get their Databricks token.
 *
 * @since 0.3.0
 * @category credentials
 */
export const custom = (options: {
  readonly key: string
  readonly token: TokenSource.TokenSource | Effect.Effect<TokenSource.IssuedToken, AuthenticationError>
  readonly name?: string | undefined
  readonly authType?: string | undefined
}): Custom => ({
  _tag: "Custom",
  key: options.key,
  token: options.token,
  name: Option.fromNullable(options.name),
  authType: options.authType
})

/**
 * @since 0.3.0
 * @category credentials
 */
export const local: Local = { _tag: "Local" }

/**
 * The identity of the current request.
 *
 * @since 0.3.0
 * @category models
 */
export interface Viewer {
  readonly key: ViewerKey
  readonly kind: Kind
  /** Who, when the platform says (Databricks Apps' email or user name); `None` on Connect. */
  readonly name: Option.Option<string>
  /**
   * The viewer's token source, backed by the shared cache: use it for every
   * request made as the viewer (`WorkspaceClient`, `SqlClient`). It is valid
   * while the `Viewers` layer is.
   */
  readonly tokenSource: TokenSource.TokenSource
}

/**
 * The viewer of the current request, as `ViewerMiddleware` provides it.
 *
 * @since 0.3.0
 * @category tags
 */
export const Viewer: Context.Tag<Viewer, Viewer> = Context.GenericTag<Viewer>("@effect-databricks/auth/Viewer")

/**
 * Request headers as servers present them: Node's `IncomingHttpHeaders` or
 * `@effect/platform`'s `Headers`.
 *
 * @since 0.3.0
 * @category models
 */
export type Headers = Readonly<Record<string, string | ReadonlyArray<string> | undefined>>

/**
 * The shared, bounded cache of viewers' token sources.
 *
 * @since 0.3.0
 * @category models
 */
export interface Viewers {
  /** Where the app runs (detected when the layer was built, unless given). */
  readonly environment: Environment
  readonly maxViewers: number
  readonly idleTimeToLive: Duration.Duration
  /**
   * The viewer of a request, from the platform's headers: on Connect the
   * session token, on Databricks Apps the forwarded token; off both, the local
   * credential. On a platform, missing headers are an `AuthenticationError`.
   */
  readonly fromHeaders: (headers: Headers) => Effect.Effect<Viewer, AuthenticationError>
  /** The viewer of a credential you built (`connectSession`, `forwarded`, `custom`, `local`). */
  readonly resolve: (credential: Credential) => Effect.Effect<Viewer, AuthenticationError>
  /**
   * `ConnectViewer`'s: the token source of the viewer with this Connect
   * user-session token; off Connect, the local one.
   */
  readonly sourceFor: (
    userSessionToken: Option.Option<Redacted.Redacted<string>> | Redacted.Redacted<string> | undefined
  ) => Effect.Effect<TokenSource.TokenSource, AuthenticationError>
}

/**
 * @since 0.3.0
 * @category tags
 */
export const Viewers: Context.Tag<Viewers, Viewers> = Context.GenericTag<Viewers>(
  "@effect-databricks/auth/Viewer/Viewers"
)

/**
 * Posit Connect's exchange settings, used on Connect.
 *
 * @since 0.3.0
 * @category options
 */
export interface ConnectOptions {
  /** The GUID of the OAuth integration, when several are associated with the content. */
  readonly audience?: string | undefined
  /** Default `CONNECT_SERVER`. */
  readonly server?: string | undefined
  /** Default `CONNECT_API_KEY`. */
  readonly apiKey?: Redacted.Redacted<string> | undefined
  readonly requestTimeout?: Duration.DurationInput | undefined
  readonly retry?: Retry.RetryOptions | undefined
}

/**
 * @since 0.3.0
 * @category options
 */
export interface Options<E = never, R = never> {
  /**
   * The credential used off Connect and Databricks Apps (in development), for
   * every request. Required there; never built on a platform.
   */
  readonly local?: Layer.Layer<TokenSource.TokenSource, E, R> | undefined
  /** Default: detected (`ConnectEnvironment`, then `DatabricksApps.isDatabricksApps`). */
  readonly environment?: Environment | undefined
  /** Viewers kept in the cache, least recently used evicted first. Default 1000. */
  readonly maxViewers?: number | undefined
  /** A viewer's entry unused this long is closed. Default 5 minutes. */
  readonly idleTimeToLive?: Duration.DurationInput | undefined
  /** Refresh a viewer's token in the background this long before it expires. Default 5 minutes. */
  readonly refreshAhead?: Duration.DurationInput | undefined
  /** An exchanged token whose expiry is unknown is treated as valid this long. Default 2 minutes. */
  readonly ttlWithoutExpiry?: Duration.DurationInput | undefined
  readonly connect?: ConnectOptions | undefined
}

/**
 * The cache for the scope. Options are checked first (`ConfigurationError`
 * naming the option); off both platforms without `local`, a
 * `ConfigurationError` for `local`.
 *
 * @since 0.3.0
 * @category constructors
 */
export const make = <E = never, R = never>(
  options: Options<E, R>
): Effect.Effect<Viewers, E | ConfigurationError, R | HttpClient.HttpClient | Scope.Scope> =>
  // A function, not the internal one itself: the two modules import each other (the key class lives here).
  internal.make(options)

/**
 * The one `Viewers` cache, for web servers: provide it once; `ViewerMiddleware`
 * (or `Viewers.fromHeaders`) gives each request its viewer.
 *
 * @since 0.3.0
 * @category layers
 */
export const layer = <E = never, R = never>(
  options: Options<E, R>
): Layer.Layer<Viewers, E | ConfigurationError, R | HttpClient.HttpClient> => Layer.scoped(Viewers, make(options))

/**
 * The viewer of a request, from its headers (see `Viewers.fromHeaders`).
 *
 * @since 0.3.0
 * @category accessors
 */
export const fromHeaders = (headers: Headers): Effect.Effect<Viewer, AuthenticationError, Viewers> =>
  Effect.flatMap(Viewers, (viewers) => viewers.fromHeaders(headers))

/**
 * The viewer of a credential (see `Viewers.resolve`).
 *
 * @since 0.3.0
 * @category accessors
 */
export const resolve = (credential: Credential): Effect.Effect<Viewer, AuthenticationError, Viewers> =>
  Effect.flatMap(Viewers, (viewers) => viewers.resolve(credential))

/**
 * Runs `effect` as the current viewer: provides their `TokenSource`, so
 * `WorkspaceClient.make()`, `SqlClient.make` and the credential-agnostic
 * code act as them.
 *
 * @since 0.3.0
 * @category combinators
 */
export const asViewer = <A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E, Exclude<R, TokenSource.TokenSource> | Viewer> =>
  Effect.flatMap(Viewer, (viewer) => Effect.provideService(effect, TokenSource.TokenSource, viewer.tokenSource))
