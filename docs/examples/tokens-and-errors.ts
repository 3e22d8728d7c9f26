// Type-checked by `pnpm check` (docs/tsconfig.json), against the packages as a user imports them.
import type { DatabricksError } from "@effect-databricks/auth"
import { TokenSource, WorkspaceHost } from "@effect-databricks/auth"
import { Duration, Effect, Redacted } from "effect"

// A token endpoint of your own: anything that returns an IssuedToken.
const fetchToken = Effect.succeed<TokenSource.IssuedToken>({
  value: Redacted.make("token-from-my-identity-provider"),
  expiresIn: Duration.hours(1)
})

const program = Effect.gen(function*() {
  // Bad hosts fail early, with the setting named and a hint.
  const host = yield* WorkspaceHost.make("adb-1234567890.12.azuredatabricks.net")

  // One cached, single-flight, refresh-ahead source.
  const source = yield* TokenSource.make(fetchToken, { authType: "my-idp", refreshAhead: "10 minutes" })
  const token = yield* source.token
  yield* Effect.log(`token for ${host.url} expires at ${token.expiresAt}`) // the value prints as <redacted>

  // Plain @databricks/sql users: pass this as `{ authType: "custom", provider }`.
  const provider = TokenSource.toDriverAuthentication(source)
  return provider
}).pipe(
  Effect.scoped,
  Effect.catchTag("ConfigurationError", (error) => Effect.logError(`${error.setting}: ${error.message}`)),
  Effect.catchTag(
    "AuthenticationError",
    (error: DatabricksError.AuthenticationError) => Effect.logError(error.message, error.hint ?? "")
  )
)

Effect.runPromise(program)
