import type * as HttpClient from "@effect/platform/HttpClient"
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as ChildProcess from "node:child_process"
import * as Crypto from "node:crypto"
import * as Path from "node:path"
import { AuthenticationError, ConfigurationError } from "../DatabricksError.js"
import * as TokenCache from "../TokenCache.js"
import * as TokenSource from "../TokenSource.js"
import type { Options } from "../U2MPkce.js"
import * as WorkspaceHost from "../WorkspaceHost.js"
import * as Callback from "./callback.js"
import * as Settings from "./config.js"
import * as Expiry from "./expiry.js"
import * as Oidc from "./oidc.js"
import * as TokenValue from "./tokenValue.js"

export interface Names {
  readonly host: string
  readonly clientId: string
  readonly clientSecret: string
  readonly redirectUri: string
}

export const optionNames: Names = {
  host: "host",
  clientId: "clientId",
  clientSecret: "clientSecret",
  redirectUri: "redirectUri"
}
export const envNames: Names = {
  host: "DATABRICKS_HOST",
  clientId: "DATABRICKS_U2M_CLIENT_ID",
  clientSecret: "DATABRICKS_U2M_CLIENT_SECRET",
  redirectUri: "DATABRICKS_REDIRECT_URI"
}

/** The Databricks CLI's public OAuth app, which every workspace knows: no app registration for local work. */
export const publicClientId = "databricks-cli"

/** The redirect URIs of the public app, as the Databricks CLI binds them: 8020, else the next free up to 8040. */
export const publicRedirectUris: ReadonlyArray<string> = Array.from(
  { length: 21 },
  (_, index) => `http://localhost:${8020 + index}`
)

/** The default redirect URI for an app of one's own (registered with it). */
export const defaultRedirectUri = "http://localhost:8080/callback"
const defaultScopes = ["all-apis", "offline_access"] as const

/** RFC 8252 loopback redirect: http, a loopback host, an explicit port, no fragment. */
const checkRedirect = (uri: string, setting: string): Either.Either<URL, ConfigurationError> => {
  const bad = (problem: string) =>
    Either.left(
      new ConfigurationError({
        setting,
        message: `${setting} ${problem}`,
        hint: `Use a loopback URL with a port that the OAuth app has registered, such as ${defaultRedirectUri}`
      })
    )
  let url: URL
  try {
    url = new URL(uri.trim())
  } catch {
    return bad(`${JSON.stringify(uri.slice(0, 80))} is not a valid URL`)
  }
  if (url.protocol !== "http:") return bad("must use http:// (the callback is served on this machine)")
  if (!WorkspaceHost.isLoopback(url.hostname)) {
    return bad(`must point at this machine (localhost, 127.0.0.1 or [::1]), not ${url.hostname}`)
  }
  if (url.port === "" || url.port === "0") return bad("needs an explicit port")
  if (url.hash !== "") return bad("must not have a #fragment")
  return Either.right(url)
}

/** The platform's way to open a URL; failures are reported, not thrown. */
export const openWithPlatform = (url: string): Effect.Effect<void> =>
  Effect.async<void, Error>((resume) => {
    const [command, args] = process.platform === "darwin"
      ? ["open", [url]]
      : process.platform === "win32"
      ? ["cmd", ["/c", "start", "", url]]
      : ["xdg-open", [url]]
    const child = ChildProcess.spawn(command, args, { stdio: "ignore", detached: true })
    child.once("error", (error) => resume(Effect.fail(error)))
    child.once("spawn", () => {
      child.unref()
      resume(Effect.void)
    })
  }).pipe(Effect.catchAll((error) => Effect.logWarning(`could not open a browser (${error.message})`)))

const isTerminal = () => process.stdin.isTTY === true && process.stdout.isTTY === true

const base64url = (bytes: Buffer) => bytes.toString("base64url")

export const make = (options: Options, names: Names): Effect.Effect<
  TokenSource.TokenSource,
  ConfigurationError,
  HttpClient.HttpClient | Scope.Scope
> =>
  Effect.gen(function*() {
    const host = yield* WorkspaceHost.make(options.host, { setting: names.host })
    // The client id goes into the login URL and the token requests, the secret into them too: the one rule for
    // credential values applies on every path here (U2MPkce, and AuthConfig from the environment or a profile).
    const clientId = options.clientId === undefined ? publicClientId : yield* TokenValue.configuredText(
      options.clientId,
      {
        name: names.clientId,
        hint:
          "Use the client id of the OAuth app registered for this workspace (Account console > App connections), or leave it out for the Databricks CLI's app"
      }
    )
    const clientSecret = options.clientSecret === undefined
      ? undefined
      : yield* TokenValue.configuredSecret(options.clientSecret, {
        name: names.clientSecret,
        hint: "Leave it out for a public client, or use the app's client secret"
      })
    // An explicit redirect URI is used as given; the public app's falls back over its ports when one is busy.
    const redirectUris = options.redirectUri !== undefined
      ? [options.redirectUri]
      : clientId === publicClientId
      ? publicRedirectUris
      : [defaultRedirectUri]
    const redirects = yield* Effect.forEach(redirectUris, (uri) =>
      Effect.map(checkRedirect(uri, names.redirectUri), (url) => ({ url, redirectUri: uri.trim() })))
    const scopes = options.scopes ?? defaultScopes
    const scope = yield* Oidc.scopeParameter(scopes, defaultScopes)
    if (!scopes.includes("offline_access")) {
      yield* Effect.logWarning(
        "scopes without offline_access: Databricks issues no refresh token, so every expiry means a new login"
      )
    }
    const loginTimeout = Duration.decode(options.loginTimeout ?? Duration.seconds(120))
    const interactive = options.interactive ?? isTerminal()
    const openBrowser = options.openBrowser ?? openWithPlatform
    const cacheKey = TokenCache.key(host.url, clientId, scopes)
    const cache = options.tokenCache ?? TokenCache.file(
      Path.join(
        TokenCache.defaultDirectory({
          XDG_CONFIG_HOME: yield* Settings.env("XDG_CONFIG_HOME"),
          APPDATA: yield* Settings.env("APPDATA")
        }),
        `${cacheKey}.json`
      )
    )
    const oidc = yield* Oidc.make({
      host,
      hostSetting: names.host,
      tokenEndpoint: Option.none(),
      secrets: clientSecret === undefined ? [] : [clientSecret],
      requestTimeout: Duration.decode(options.requestTimeout ?? Duration.seconds(30)),
      retry: options.retry
    })
    const secretParams: Record<string, string> = clientSecret === undefined
      ? {}
      : { client_secret: Redacted.value(clientSecret) }
    const hints = {
      invalid_client: `Check ${names.clientId}${
        clientSecret === undefined ? "" : ` / ${names.clientSecret}`
      } against the OAuth app registration`,
      invalid_scope: "Check the scopes; the OAuth app must allow them (all-apis, offline_access)"
    }

    /** The refresh token we hold, and whether the cache was consulted yet. */
    const held = yield* Ref.make<
      { readonly refreshToken: Redacted.Redacted<string> | undefined; readonly loaded: boolean }
    >(
      { refreshToken: undefined, loaded: false }
    )

    const store = (grant: Oidc.Grant) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const previous = (yield* Ref.get(held)).refreshToken
        // A refresh that returns no new refresh token leaves the old one valid.
        const refreshToken = grant.refreshToken ?? previous
        yield* Ref.set(held, { refreshToken, loaded: true })
        // The one expiry rule: `expires_in: 1e20` is clamped instead of throwing inside the token fetch.
        const expiry = yield* Expiry.resolve({ expiresIn: grant.expiresIn }, now)
        const expiresAt = Option.getOrUndefined(expiry)
        yield* cache.save(cacheKey, { accessToken: grant.accessToken, refreshToken, expiresAt })
        return { value: grant.accessToken, expiresAt } satisfies TokenSource.IssuedToken
      })

    const login = Effect.scoped(
      Effect.gen(function*() {
        const endpoints = yield* oidc.endpoints
        if (endpoints.authorization === undefined) {
          return yield* Effect.fail(
            new AuthenticationError({
              message: "OIDC discovery returned no authorization_endpoint, so a browser login is not possible",
              hint: `Check that ${names.host} is the workspace URL`
            })
          )
        }
        const verifier = base64url(Crypto.randomBytes(32))
        const challenge = base64url(Crypto.createHash("sha256").update(verifier).digest())
        const state = base64url(Crypto.randomBytes(32))
        const { code: callback, redirectUri } = yield* Callback.receive(redirects, names.redirectUri, state, [
          clientSecret,
          verifier
        ])
        const url = new URL(endpoints.authorization)
        url.search = new URLSearchParams({
          client_id: clientId,
          redirect_uri: redirectUri,
          response_type: "code",
          scope,
          state,
          code_challenge: challenge,
          code_challenge_method: "S256"
        }).toString()
        yield* Effect.logInfo(`Log in to Databricks in a browser: ${url.toString()}`)
        yield* openBrowser(url.toString()).pipe(
          Effect.catchAllCause((cause) =>
            Effect.logWarning("could not open a browser; open the URL above by hand", cause)
          )
        )
        yield* Effect.logInfo(`waiting up to ${Duration.format(loginTimeout)} for the login callback on ${redirectUri}`)
        const code = yield* Deferred.await(callback).pipe(
          Effect.timeoutFail({
            duration: loginTimeout,
            onTimeout: () =>
              new AuthenticationError({
                message: `No login callback arrived within ${Duration.format(loginTimeout)}`,
                hint: "Open the logged URL in a browser and finish the login, or allow more time with loginTimeout"
              })
          })
        )
        return yield* oidc.grant(
          {
            grant_type: "authorization_code",
            code,
            code_verifier: verifier,
            redirect_uri: redirectUri,
            client_id: clientId,
            ...secretParams
          },
          { what: "the authorization code", hints, defaultHint: "Start the login again" }
        )
      })
    ).pipe(Effect.withSpan("U2MPkce.login"))

    const refresh = (refreshToken: Redacted.Redacted<string>) =>
      oidc.grant(
        {
          grant_type: "refresh_token",
          refresh_token: Redacted.value(refreshToken),
          client_id: clientId,
          ...secretParams
        },
        { what: "the refresh token", hints, defaultHint: "Log in again" }
      ).pipe(Effect.withSpan("U2MPkce.refresh"))

    const loginAgain = (why: string) =>
      new AuthenticationError({
        message: `${why}; log in again`,
        hint: "Run the app once on a terminal (interactive) to log in in a browser; the new login is cached"
      })

    const fetch = Effect.gen(function*() {
      const current = yield* Ref.get(held)
      if (!current.loaded) {
        const cached = yield* cache.load(cacheKey)
        yield* Ref.set(held, {
          refreshToken: Option.getOrUndefined(Option.flatMap(cached, (c) =>
            Option.fromNullable(c.refreshToken))),
          loaded: true
        })
        if (Option.isSome(cached)) {
          const now = yield* Clock.currentTimeMillis
          const { accessToken, expiresAt } = cached.value
          // A cached token with more than a minute left is used as is: no login, no request.
          if (expiresAt !== undefined && DateTime.toEpochMillis(expiresAt) - now > 60_000) {
            yield* Effect.logInfo("using the cached Databricks login")
            return { value: accessToken, expiresAt } satisfies TokenSource.IssuedToken
          }
        }
      }
      const refreshToken = (yield* Ref.get(held)).refreshToken
      if (refreshToken !== undefined) {
        const refreshed = yield* Effect.either(refresh(refreshToken))
        if (Either.isRight(refreshed)) return yield* store(refreshed.right)
        const error = refreshed.left
        if (error._tag !== "AuthenticationError" || error.oauthError !== "invalid_grant") {
          return yield* Effect.fail(error)
        }
        yield* Ref.set(held, { refreshToken: undefined, loaded: true })
        if (!interactive) return yield* Effect.fail(loginAgain("The refresh token was rejected (invalid_grant)"))
        yield* Effect.logInfo("the refresh token was rejected; starting a new browser login")
      } else if (!interactive) {
        return yield* Effect.fail(loginAgain("There is no cached login or refresh token and interactive is false"))
      }
      return yield* Effect.flatMap(login, store)
    }).pipe(Effect.mapError((error) => Oidc.asAuthenticationError(error, "Could not obtain a Databricks user token")))

    return yield* TokenSource.make(fetch, { authType: "oauth-u2m", refreshAhead: options.refreshAhead })
  })
