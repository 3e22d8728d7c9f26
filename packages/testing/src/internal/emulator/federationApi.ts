import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Crypto from "node:crypto"
import type * as Emulator from "../../Emulator.js"
import { EmulatorError } from "../../EmulatorError.js"
import type { Faults } from "./faults.js"
import { Federation, type Issuer } from "./federation.js"
import * as IssuerServer from "./issuerServer.js"
import type { Registry } from "./registry.js"
import type { Stats } from "./stats.js"

/** Wires workload identity federation into the emulator: its state, its server's app, and the public API. */

const millis = (duration: Duration.DurationInput | undefined) =>
  duration === undefined ? undefined : Duration.toMillis(Duration.decode(duration))

const issuerApi = (issuer: Issuer): Emulator.FederationIssuer => ({
  url: issuer.url,
  algorithm: issuer.algorithm,
  jwks: Effect.sync(() => issuer.jwks),
  rotateKey: Effect.sync(() => issuer.rotate()),
  mint: (options) =>
    Effect.map(Clock.currentTimeMillis, (now) =>
      Redacted.make(issuer.mint({
        subject: options.subject,
        audience: options.audience,
        issuer: options.issuer,
        lifetimeMs: millis(options.lifetime),
        issuedAgoMs: millis(options.issuedAgo),
        notBeforeMs: millis(options.notBefore),
        claims: options.claims,
        algorithm: options.algorithm,
        forged: options.forged
      }, now)))
})

export const make = (deps: {
  readonly url: string
  readonly host: string
  readonly registry: Registry
  readonly faults: Faults
  readonly stats: Stats
}) => {
  const state = new Federation(deps.url, `${deps.host}/oidc/v1/token`)
  const app = IssuerServer.router({ federation: state, faults: deps.faults, stats: deps.stats }).pipe(
    Effect.catchTag("RouteNotFound", () => IssuerServer.routeNotFound)
  )
  const api: Emulator.Federation = {
    url: deps.url,
    addIssuer: (options) =>
      Effect.sync(() =>
        issuerApi(state.addIssuer(options?.name ?? `issuer-${state.issuers.size}`, options?.algorithm ?? "RS256"))
      ),
    addPolicy: (policy) =>
      Effect.suspend(() => {
        const bad = (message: string) => Effect.fail(new EmulatorError({ message }))
        if (policy.servicePrincipal !== undefined) {
          if (deps.registry.principalByClientId(policy.servicePrincipal) === undefined) {
            return bad(`No service principal has the client id ${policy.servicePrincipal}`)
          }
          if (policy.subject === undefined) return bad("A service principal's federation policy needs a subject")
        } else if (policy.subject !== undefined) {
          return bad("An account-wide federation policy maps the subject claim to a user: it takes no subject")
        }
        state.policies.push({
          issuer: policy.issuer,
          audiences: policy.audiences ?? [state.defaultAudience],
          subjectClaim: policy.subjectClaim ?? "sub",
          subject: policy.subject,
          servicePrincipal: policy.servicePrincipal,
          // The public type is the DOM's JsonWebKey; node:crypto reads the same members.
          jwks: policy.jwks as { readonly keys: ReadonlyArray<Crypto.JsonWebKey> } | undefined
        })
        return Effect.void
      }),
    clearPolicies: Effect.sync(() => {
      state.policies.length = 0
    }),
    githubActions: {
      requestUrl: `${deps.url}${IssuerServer.githubPath}?api-version=2.0`,
      requestToken: Redacted.make(state.githubRequestToken),
      issuer: issuerApi(state.githubIssuer),
      configure: (options) =>
        Effect.sync(() => {
          state.github = {
            subject: options.subject ?? state.github.subject,
            claims: options.claims === undefined ? state.github.claims : { ...options.claims },
            lifetimeMs: millis(options.lifetime) ?? state.github.lifetimeMs
          }
        })
    }
  }
  return { state, app, api }
}
