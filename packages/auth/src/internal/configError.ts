import type * as ConfigError from "effect/ConfigError"
import { ConfigurationError } from "../DatabricksError.js"
import * as Redaction from "../Redaction.js"

/**
 * A `ConfigError` from reading a layer's `Config` as the one `ConfigurationError` the layer fails with, naming
 * the setting (the path of the first failing leaf, `DATABRICKS_HOST` for `Config.string("DATABRICKS_HOST")`).
 * A missing setting is never read as "unset" here: the layer's `Config` says what is optional.
 */

type Leaf = { readonly setting: string; readonly missing: boolean; readonly message: string }

const leaf = (error: ConfigError.ConfigError): Leaf => {
  switch (error._op) {
    case "And":
    case "Or":
      return leaf(error.left)
    case "MissingData":
      return { setting: error.path.join("_"), missing: true, message: error.message }
    default:
      return { setting: error.path.join("_"), missing: false, message: error.message }
  }
}

export const toConfigurationError = (
  error: ConfigError.ConfigError,
  hints: Readonly<Record<string, string>>
): ConfigurationError => {
  const found = leaf(error)
  const setting = found.setting === "" ? "config" : found.setting
  const hint = Object.hasOwn(hints, setting) ? hints[setting] : "Check the setting's value"
  return new ConfigurationError({
    setting,
    message: found.missing
      ? `${setting} is not set. ${hint}.`
      // A provider's message may quote the value it could not read: it goes through the one redaction rule.
      : `${setting} is not valid: ${Redaction.redact(found.message, { maxLength: 200 })}`,
    hint
  })
}
