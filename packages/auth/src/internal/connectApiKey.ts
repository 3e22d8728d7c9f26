import * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import type { ConfigurationError } from "../DatabricksError.js"
import * as Settings from "./config.js"
import * as TokenValue from "./tokenValue.js"

/**
 * Checks the Connect API key (the `apiKey` option, else `CONNECT_API_KEY`)
 * when one is given, by the one rule for header values: it is sent as
 * `Authorization: Key …`, so a line break in it used to be an
 * `ERR_INVALID_CHAR` defect. A missing key is left to the Connect client,
 * which reports it in its own order (server first).
 */
export const check = (options: { readonly apiKey?: Redacted.Redacted<string> | undefined }): Effect.Effect<
  void,
  ConfigurationError
> =>
  Effect.gen(function*() {
    const given: unknown = options.apiKey
    const apiKey = given ?? (yield* Settings.envSecret("CONNECT_API_KEY"))
    if (apiKey === undefined) return
    yield* TokenValue.configuredSecret(apiKey, {
      name: given === undefined ? "CONNECT_API_KEY" : "apiKey",
      hint: "Connect sets it for deployed content; locally, create an API key in Connect"
    })
  })
