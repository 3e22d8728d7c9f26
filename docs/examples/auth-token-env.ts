// Type-checked by `pnpm check`. A token obtained beforehand (DATABRICKS_ACCESS_TOKEN), e.g. by a CI job.
import { TokenEnv, TokenSource } from "@effect-databricks/auth"
import { Console, Effect, Option } from "effect"

export const program = Effect.gen(function*() {
  const source = yield* TokenSource.TokenSource
  const token = yield* source.token
  yield* Console.log(
    `token-env token expires ${Option.match(token.expiresAt, { onNone: () => "(unknown)", onSome: String })}`
  )
}).pipe(
  // A JWT past (or within 30 s of) its exp claim fails here, with a hint to obtain a new one.
  Effect.catchTag("AuthenticationError", (error) => Console.error(error.message)),
  Effect.provide(TokenEnv.layerConfig())
)
