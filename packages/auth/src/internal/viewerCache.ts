/**
 * The `Viewers` cache behind `Viewer.layer` and `ConnectViewer.layerViewers`: one `RcMap` of `TokenSource.make`
 * sources keyed by `ViewerKey`, bounded by `maxViewers` (least recently used evicted) and `idleTimeToLive`.
 *
 * A viewer's `tokenSource` is a handle, not the entry: each `token` call takes the entry for the duration of the
 * call (creating it again if it was evicted), so a handle kept by a long-lived client (a per-viewer `SqlClient`)
 * keeps the entry alive while it is used and lets it go when it is not.
 *
 * @internal
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Equal from "effect/Equal"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Hash from "effect/Hash"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as RcMap from "effect/RcMap"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as ConnectEnvironment from "../ConnectEnvironment.js"
import * as DatabricksApps from "../DatabricksApps.js"
import { AuthenticationError, ConfigurationError } from "../DatabricksError.js"
import * as TokenSource from "../TokenSource.js"
import type * as Viewer from "../Viewer.js"
import { ViewerKey } from "../Viewer.js"
import * as Connect from "./connect.js"
import * as ConnectApiKey from "./connectApiKey.js"
import * as Expiry from "./expiry.js"
import * as OptionChecks from "./options.js"
import * as TokenValue from "./tokenValue.js"

/** The header Connect adds to every request of a logged-in viewer. */
export const connectHeaderName = "Posit-Connect-User-Session-Token"

/** The viewer's Connect session token from request headers (any letter case), if present. */
export const userSessionToken = (headers: Viewer.Headers): Option.Option<Redacted.Redacted<string>> => {
  const wanted = connectHeaderName.toLowerCase()
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() !== wanted) continue
    const first = typeof value === "string" ? value : value?.[0]
    if (first !== undefined && first.trim() !== "") return Option.some(Redacted.make(first.trim()))
  }
  return Option.none()
}

/** On Connect, a request without the viewer's session token. */
export const connectSessionRequired = new AuthenticationError({
  message: "The user-session-token is required for viewer authentication",
  hint:
    `Pass the ${connectHeaderName} request header (ConnectViewer.userSessionToken(headers)); Connect sends it only to content with logged-in viewers`
})

/** Which platforms a cache recognises, and how its log line names it. */
export interface Flavour {
  readonly name: string
  /** ConnectViewer knows Connect only: elsewhere (Databricks Apps included) it is local, as it always was. */
  readonly databricksApps: boolean
}

const general: Flavour = { name: "Viewer", databricksApps: true }

/** The RcMap's key: equal by the viewer's key; it carries the credential that creates the entry. */
class Slot implements Equal.Equal {
  constructor(readonly key: ViewerKey, readonly latest: Latest) {}
  [Equal.symbol](that: Equal.Equal): boolean {
    return that instanceof Slot && that.key.id === this.key.id
  }
  [Hash.symbol](): number {
    return Hash.string(this.key.id)
  }
}

interface Entry {
  /** The token of the entry's current source. */
  readonly token: Effect.Effect<TokenSource.AccessToken, AuthenticationError>
  /** Records the credential of a new request; a different forwarded token or custom source replaces the last. */
  readonly observe: (latest: Latest) => Effect.Effect<void>
  readonly invalidate: Effect.Effect<void>
}

/**
 * One `TokenSource.make` over one credential. A new credential (the viewer's next forwarded token) gets a new
 * one, with no failure backoff left from the last; the old one is closed once no call is using it.
 */
interface Generation {
  readonly latest: Latest
  readonly source: TokenSource.TokenSource
  readonly scope: Scope.CloseableScope
  inFlight: number
  retired: boolean
}

/** What the entry fetches from: the latest credential, and for a forwarded or custom one its own source. */
interface Latest {
  readonly credential: Viewer.Credential
  readonly inner: TokenSource.TokenSource | undefined
}

const maxViewersLimit = 1_000_000
const maxTimerMillis = 2 ** 31 - 1

const configError = (setting: string, message: string, hint: string) =>
  new ConfigurationError({ setting, message: `${setting} ${message}`, hint })

/** Own properties only, a throwing getter read as a value every check refuses. */
const get = (record: unknown, key: string): unknown => {
  try {
    return record !== null && typeof record === "object" && Object.hasOwn(record, key)
      ? (record as Record<string, unknown>)[key]
      : undefined
  } catch {
    return Symbol.for("unreadable")
  }
}

const checkOptions = (options: Viewer.Options<unknown, unknown>) =>
  Effect.gen(function*() {
    const maxViewers = get(options, "maxViewers")
    if (
      maxViewers !== undefined &&
      !(typeof maxViewers === "number" && Number.isSafeInteger(maxViewers) && maxViewers >= 1 &&
        maxViewers <= maxViewersLimit)
    ) {
      return yield* Effect.fail(
        configError("maxViewers", `is not a whole number from 1 to ${maxViewersLimit}`, "Pass for example 1000")
      )
    }
    for (const setting of ["idleTimeToLive", "refreshAhead", "ttlWithoutExpiry"]) {
      const value = get(options, setting)
      if (value === undefined) continue
      const decoded = Option.getOrUndefined(Duration.decodeUnknown(value))
      if (decoded === undefined || Duration.toMillis(decoded) > maxTimerMillis) {
        return yield* Effect.fail(
          configError(
            setting,
            "is not a duration of at most 24 days",
            "Pass a Duration or a string such as \"5 minutes\""
          )
        )
      }
    }
    const environment = get(options, "environment")
    if (
      environment !== undefined && environment !== "connect" && environment !== "databricks-apps" &&
      environment !== "local"
    ) {
      return yield* Effect.fail(
        configError("environment", "is not \"connect\", \"databricks-apps\" or \"local\"", "Leave it out to detect it")
      )
    }
    const connect = get(options, "connect")
    if (connect !== undefined && (connect === null || typeof connect !== "object")) {
      return yield* Effect.fail(configError("connect", "is not an object", "Pass { audience?, server?, apiKey? }"))
    }
    yield* OptionChecks.durations(connect ?? {}, ["requestTimeout"])
    const audience = get(connect, "audience")
    if (audience !== undefined && typeof audience !== "string") {
      return yield* Effect.fail(configError("audience", "is not a string", "Pass the integration's GUID"))
    }
  })

/** A session token as given by typed or untyped callers: a plain string is wrapped, never a defect. */
const sessionTokenOf = (token: unknown): Redacted.Redacted<string> | undefined => {
  const given: unknown = Option.isOption(token) ? Option.getOrUndefined(token) : token
  const value = typeof given === "string"
    ? Redacted.make(given.trim())
    : Redacted.isRedacted(given) && typeof Redacted.value(given) === "string"
    ? Redacted.make((Redacted.value(given) as string).trim())
    : undefined
  return value === undefined || Redacted.value(value) === "" ? undefined : value
}

const nonBlank = (value: unknown): value is string => typeof value === "string" && value.trim() !== ""

const isTokenSource = (value: unknown): value is TokenSource.TokenSource =>
  typeof value === "object" && value !== null && Effect.isEffect((value as { token?: unknown }).token)

/** The viewers cache. */
export const make = <E, R>(
  options: Viewer.Options<E, R>,
  flavour: Flavour = general
): Effect.Effect<Viewer.Viewers, E | ConfigurationError, R | HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function*() {
    yield* checkOptions(options as Viewer.Options<unknown, unknown>)
    const connectOptions: Viewer.ConnectOptions = (get(options, "connect") as Viewer.ConnectOptions | undefined) ?? {}
    const maxViewers = (get(options, "maxViewers") as number | undefined) ?? 1000
    const idleTimeToLive = Duration.decode((get(options, "idleTimeToLive") as Duration.DurationInput) ?? "5 minutes")
    const refreshAhead = get(options, "refreshAhead") as Duration.DurationInput | undefined
    const ttlWithoutExpiry = Duration.decode(
      (get(options, "ttlWithoutExpiry") as Duration.DurationInput | undefined) ?? "2 minutes"
    )

    const kind = yield* ConnectEnvironment.current
    const given = get(options, "environment") as Viewer.Environment | undefined
    const environment: Viewer.Environment = given ?? (ConnectEnvironment.isConnect(kind)
      ? "connect"
      : flavour.databricksApps && (yield* DatabricksApps.isDatabricksApps)
      ? "databricks-apps"
      : "local")

    // The local credential exists only off the platforms: on one, nothing can fall back to it.
    let localViewer: Viewer.Viewer | undefined
    if (environment === "local") {
      const localLayer = options.local
      if (localLayer === undefined) {
        return yield* Effect.fail(
          configError(
            "local",
            `is not set, and the app is not on Posit Connect${flavour.databricksApps ? " or Databricks Apps" : ""}`,
            "Pass local: the credential to act as in development (for example AuthConfig.layer() or U2MPkce.layerConfig())"
          )
        )
      }
      const source = yield* Layer.build(localLayer).pipe(Effect.map(Context.get(TokenSource.TokenSource)))
      localViewer = { key: new ViewerKey("local", ""), kind: "local", name: Option.none(), tokenSource: source }
      yield* Effect.logInfo(
        flavour.databricksApps
          ? `${flavour.name}: not on Posit Connect or Databricks Apps (${kind}); every request acts as the local ${source.authType} credential`
          : `${flavour.name}: not on Posit Connect (${kind}); using the local ${source.authType} credential`
      )
    }

    let client: Connect.Client | undefined
    if (environment === "connect") {
      yield* ConnectApiKey.check(connectOptions)
      client = yield* Connect.make(connectOptions)
    }

    const fetchFor = (latest: Latest): Effect.Effect<TokenSource.IssuedToken, AuthenticationError> =>
      Effect.gen(function*() {
        const credential = latest.credential
        if (credential._tag === "ConnectSession") {
          if (client === undefined) return yield* Effect.fail(notOnConnect)
          const exchanged = yield* client.exchange({
            subjectTokenType: Connect.userSessionTokenType,
            subjectToken: credential.userSessionToken,
            audience: credential.audience
          })
          const value = yield* TokenValue.issued(exchanged.accessToken, "Posit Connect's credential exchange")
          const now = yield* Clock.currentTimeMillis
          const expiry = yield* Expiry.resolve({ expiresIn: exchanged.expiresIn, token: Redacted.value(value) }, now)
          return Option.isSome(expiry) ? { value, expiresAt: expiry.value } : { value, expiresIn: ttlWithoutExpiry }
        }
        if (latest.inner !== undefined) {
          const token = yield* latest.inner.token
          if (credential._tag === "Forwarded" && Option.isSome(token.expiresAt)) {
            const now = yield* Clock.currentTimeMillis
            if (DateTime.toEpochMillis(token.expiresAt.value) <= now) return yield* Effect.fail(forwardedExpired)
          }
          return { value: token.value, expiresAt: Option.getOrUndefined(token.expiresAt) }
        }
        if (credential._tag === "Custom" && !isTokenSource(credential.token)) return yield* credential.token
        return yield* Effect.fail(notCached)
      })

    /** The forwarded token's own source (refused after the workspace refused it), or the custom source. */
    const innerOf = (
      credential: Viewer.Credential
    ): Effect.Effect<TokenSource.TokenSource | undefined, AuthenticationError> =>
      credential._tag === "Forwarded"
        ? DatabricksApps.forwardedTokenSource(credential.token)
        : credential._tag === "Custom" && isTokenSource(credential.token)
        ? Effect.succeed(credential.token)
        : Effect.succeed(undefined)

    /** True when `next` carries another token than `current`: the entry then fetches from it. */
    const replaces = (current: Viewer.Credential, next: Viewer.Credential): boolean =>
      current._tag === "Forwarded" && next._tag === "Forwarded"
        ? Redacted.value(current.token) !== Redacted.value(next.token)
        : current._tag === "Custom" && next._tag === "Custom"
        ? current.token !== next.token
        : false

    const lookup = (slot: Slot): Effect.Effect<Entry, never, Scope.Scope> =>
      Effect.gen(function*() {
        const entryScope = yield* Effect.scope
        const generationOf = (latest: Latest) =>
          Effect.gen(function*() {
            const scope = yield* Scope.fork(entryScope, ExecutionStrategy.sequential)
            const source = yield* Scope.extend(
              TokenSource.make(fetchFor(latest), { authType: authTypeOf(latest.credential), refreshAhead }),
              scope
            )
            return { latest, source, scope, inFlight: 0, retired: false } satisfies Generation
          })
        let current: Generation = yield* generationOf(slot.latest)
        const release = (generation: Generation) =>
          generation.retired && generation.inFlight === 0 ? Scope.close(generation.scope, Exit.void) : Effect.void
        const token = Effect.suspend(() => {
          const generation = current
          generation.inFlight++
          return Effect.ensuring(
            generation.source.token,
            Effect.suspend(() => {
              generation.inFlight--
              return release(generation)
            })
          )
        })
        const invalidate = Effect.suspend(() =>
          Effect.zipRight(current.source.invalidate, current.latest.inner?.invalidate ?? Effect.void)
        )
        const observe = (latest: Latest) =>
          Effect.suspend(() =>
            replaces(current.latest.credential, latest.credential)
              ? Effect.flatMap(generationOf(latest), (next) => {
                const old = current
                current = next
                old.retired = true
                return release(old)
              })
              : Effect.void
          )
        return { token, observe, invalidate }
      })

    // Least recently used first; every key of the map is here (an id may outlive its entry: evicting it is a no-op).
    const order = new Map<string, Slot>()
    let map = yield* RcMap.make({ lookup, idleTimeToLive })
    // Registered after the map, so it runs first when the scope closes. A server forked with the layer provided
    // to the fork alone (`Effect.provide(server.serve(app), layer)`) goes on using it after it closed: it then
    // gets entries that live for one call (nothing left running, nothing cached), and a warning says why.
    let closed = false
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        map = yield* Scope.extend(RcMap.make({ lookup, idleTimeToLive: Duration.zero }), scope)
        order.clear()
        closed = true
      })
    )
    let warned = false
    const usedAfterClose = Effect.suspend(() => {
      if (warned) return Effect.void
      warned = true
      return Effect.logWarning(
        `${flavour.name}: a viewer's token was asked for after the Viewers layer was closed; viewers' tokens are no longer cached. Provide the layer for as long as the server runs (Layer.launch, or HttpServer.serve in a layer)`
      )
    })

    const touch = (slot: Slot) =>
      Effect.suspend(() => {
        order.delete(slot.key.id)
        order.set(slot.key.id, slot)
        const evicted: Array<Slot> = []
        for (const [id, oldest] of order) {
          if (order.size - evicted.length <= maxViewers) break
          evicted.push(oldest)
          order.delete(id)
        }
        return Effect.forEach(evicted, (old) => RcMap.invalidate(map, old), { discard: true })
      })

    const acquire = (slot: Slot): Effect.Effect<Entry, never, Scope.Scope> =>
      Effect.suspend(() => Effect.zipRight(closed ? usedAfterClose : touch(slot), RcMap.get(map, slot)))

    const handle = (slot: Slot): TokenSource.TokenSource => {
      const custom = slot.latest.credential._tag === "Custom" ? slot.latest.inner : undefined
      return {
        authType: authTypeOf(slot.latest.credential),
        token: Effect.scoped(Effect.flatMap(acquire(slot), (entry) => entry.token)),
        invalidate: Effect.suspend(() =>
          Effect.flatMap(
            RcMap.has(map, slot),
            (has) =>
              has ? Effect.scoped(Effect.flatMap(RcMap.get(map, slot), (entry) => entry.invalidate)) : Effect.void
          )
        ),
        ...(custom?.headers === undefined ? {} : { headers: custom.headers })
      }
    }

    const cached = (key: ViewerKey, credential: Viewer.Credential, name: Option.Option<string>) =>
      Effect.gen(function*() {
        // A forwarded token that cannot be sent is refused here, before it reaches the cache.
        const latest: Latest = { credential, inner: yield* innerOf(credential) }
        const slot = new Slot(key, latest)
        yield* Effect.scoped(Effect.flatMap(acquire(slot), (entry) => entry.observe(latest)))
        return { key, kind: key.kind, name, tokenSource: handle(slot) } satisfies Viewer.Viewer
      })

    const resolve = (credential: Viewer.Credential): Effect.Effect<Viewer.Viewer, AuthenticationError> =>
      Effect.suspend(() => {
        const tag: unknown = typeof credential === "object" && credential !== null ? credential._tag : undefined
        switch (tag) {
          case "Local":
            return localViewer === undefined ? Effect.fail(noLocalOnPlatform(environment)) : Effect.succeed(localViewer)
          case "ConnectSession": {
            const c = credential as Viewer.ConnectSession
            const token = sessionTokenOf(c.userSessionToken)
            if (token === undefined) return Effect.fail(connectSessionRequired)
            if (localViewer !== undefined) return Effect.succeed(localViewer)
            if (environment !== "connect") return Effect.fail(notOnConnect)
            const audience = nonBlank(c.audience) ? c.audience : connectOptions.audience
            return cached(
              new ViewerKey("connect", `${Redacted.value(token)}\n${audience ?? ""}`),
              { _tag: "ConnectSession", userSessionToken: token, audience },
              Option.none()
            )
          }
          case "Forwarded": {
            const c = credential as Viewer.Forwarded
            if (!nonBlank(c.user) || !Redacted.isRedacted(c.token)) return Effect.fail(badCredential("forwarded"))
            return cached(new ViewerKey("databricks-apps", c.user), c, Option.isOption(c.name) ? c.name : Option.none())
          }
          case "Custom": {
            const c = credential as Viewer.Custom
            if (!nonBlank(c.key) || !(isTokenSource(c.token) || Effect.isEffect(c.token))) {
              return Effect.fail(badCredential("custom"))
            }
            return cached(new ViewerKey("custom", c.key), c, Option.isOption(c.name) ? c.name : Option.none())
          }
          default:
            return Effect.fail(badCredential("unknown"))
        }
      })

    const fromHeaders = (headers: Viewer.Headers): Effect.Effect<Viewer.Viewer, AuthenticationError> =>
      Effect.suspend(() => {
        if (typeof headers !== "object" || headers === null) return Effect.fail(badCredential("headers"))
        switch (environment) {
          case "local":
            return Effect.succeed(localViewer!)
          case "connect":
            return Option.match(userSessionToken(headers), {
              onNone: () => Effect.fail(connectSessionRequired),
              onSome: (token) => resolve({ _tag: "ConnectSession", userSessionToken: token, audience: undefined })
            })
          case "databricks-apps":
            return Effect.flatMap(
              DatabricksApps.viewerFromHeaders(headers, { onPlatform: true }),
              (viewer) =>
                Option.match(viewer, {
                  // viewerFromHeaders fails on the platform without the headers; kept typed all the same.
                  onNone: () => Effect.fail(DatabricksApps.userAuthorizationRequired),
                  onSome: (v) =>
                    resolve({
                      _tag: "Forwarded",
                      user: v.user,
                      token: v.token.value,
                      name: Option.orElse(v.email, () => v.preferredUsername)
                    })
                })
            )
        }
      })

    const sourceFor = (token: Option.Option<Redacted.Redacted<string>> | Redacted.Redacted<string> | undefined) =>
      localViewer !== undefined
        ? Effect.succeed(localViewer.tokenSource)
        : Effect.map(
          resolve({
            _tag: "ConnectSession",
            userSessionToken: token as Redacted.Redacted<string>,
            audience: undefined
          }),
          (viewer) => viewer.tokenSource
        )

    return { environment, maxViewers, idleTimeToLive, fromHeaders, resolve, sourceFor }
  })

const authTypeOf = (credential: Viewer.Credential): string => {
  switch (credential._tag) {
    case "ConnectSession":
      return "posit-oauth-integration"
    case "Forwarded":
      return DatabricksApps.viewerAuthType
    case "Custom":
      return nonBlank(credential.authType)
        ? credential.authType
        : isTokenSource(credential.token) && nonBlank(credential.token.authType)
        ? credential.token.authType
        : "custom"
    case "Local":
      return "local"
  }
}

const notOnConnect = new AuthenticationError({
  message: "A Posit Connect session token was given, but the app is not on Posit Connect",
  hint: "Identify viewers with Viewer.fromHeaders, which reads the headers of the platform the app runs on"
})

const noLocalOnPlatform = (environment: Viewer.Environment) =>
  new AuthenticationError({
    message: `The local credential was asked for, but the app runs on ${environment}, where it acts for viewers only`,
    hint: "Identify the viewer from the request (Viewer.fromHeaders); the app's own identity never stands in for one"
  })

const forwardedExpired = new AuthenticationError({
  message: "The viewer's forwarded access token has expired",
  hint:
    "The Databricks Apps proxy forwards a fresh token with the viewer's next request: ask them to reload. It is not replaced by the app's service principal"
})

const notCached = new AuthenticationError({ message: "The viewer's credential has no token to give" })

const badCredential = (what: string) =>
  new AuthenticationError({
    message: `The viewer's ${what} credential is malformed`,
    hint:
      "Build it with Viewer.connectSession, Viewer.forwarded (a non-blank user and a Redacted token) or Viewer.custom (a non-blank key and a TokenSource or token fetch)"
  })
