/**
 * The metrics the credential layers record, as `effect/Metric` values: read
 * them with `Metric.value`, or export them with `@effect/opentelemetry`
 * (`NodeSdk.layer({ metricReader })`).
 *
 * No token, secret or identity is ever a tag: only the auth type and how the
 * fetch ended.
 *
 * @since 0.3.0
 */
import * as Metric from "effect/Metric"

/**
 * Tokens fetched by a `TokenSource.make` cache (every OAuth layer, the CLI,
 * Posit Connect exchanges): one per request to the issuer, whether it was
 * made because no token was cached, because the cached one was close to its
 * expiry (a refresh ahead of time), or after an expired-token 403.
 *
 * - name: `databricks.auth.token_fetches`
 * - kind: counter (monotonic; an OpenTelemetry `Counter`), unit 1
 * - tags: `auth_type` (the `TokenSource`'s `authType`: `oauth-m2m`,
 *   `oauth-u2m`, `databricks-cli`, …) and `outcome` (`success` or `failure`)
 *
 * A static token (`Pat`, `TokenEnv`, `TokenSource.static`) is never fetched
 * and never counted. Each fetch is also a span, `TokenSource.fetch`, a child
 * of the call that needed the token.
 *
 * @example
 * ```ts
 * import { AuthMetrics } from "@effect-databricks/auth"
 * import { Effect, Metric } from "effect"
 *
 * const refreshes = Metric.value(
 *   AuthMetrics.tokenFetches.pipe(Metric.tagged("auth_type", "oauth-m2m"), Metric.tagged("outcome", "success"))
 * ).pipe(Effect.map((state) => state.count))
 * ```
 *
 * @since 0.3.0
 * @category metrics
 */
export const tokenFetches: Metric.Metric.Counter<number> = Metric.counter("databricks.auth.token_fetches", {
  description: "Tokens fetched from their issuer by a TokenSource, by auth type and outcome",
  incremental: true
})
