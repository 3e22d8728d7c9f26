/**
 * Tokens from the Databricks CLI: `databricks auth token --host H` (or
 * `--profile P`), for developers who already ran `databricks auth login`.
 *
 * - The command runs through @effect/platform `Command` with a deadline
 *   (`timeout`, 30 s), so the layer requires a `CommandExecutor`
 *   (`NodeContext.layer`).
 * - Its JSON `{ access_token, token_type, expiry }` is parsed with `expiry` read
 *   as an RFC 3339 time with its offset; the token is refreshed ahead of expiry
 *   by running the command again.
 * - The principal the token belongs to (the JWT `sub`) is logged, because the
 *   CLI can hand out a user's token for a service-principal profile.
 * - A missing CLI, a non-zero exit (its stderr with secrets redacted) or bad
 *   output is an `AuthenticationError` that says what to do.
 *
 * @since 0.1.0
 */
import type * as CommandExecutor from "@effect/platform/CommandExecutor"
import * as Clock from "effect/Clock"
import type * as Config from "effect/Config"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { AuthenticationError, ConfigurationError } from "./DatabricksError.js"
import * as Cli from "./internal/cli.js"
import * as Credential from "./internal/credential.js"
import * as Expiry from "./internal/expiry.js"
import * as Jwt from "./internal/jwt.js"
import * as OptionChecks from "./internal/options.js"
import * as TokenValue from "./internal/tokenValue.js"
import * as TokenSource from "./TokenSource.js"
import * as WorkspaceHost from "./WorkspaceHost.js"

/**
 * @since 0.1.0
 * @category options
 */
export interface Options {
  /** The workspace URL. Default `DATABRICKS_HOST`, unless a profile is given. */
  readonly host?: string | undefined
  /** A profile of `~/.databrickscfg`. Default `DATABRICKS_CONFIG_PROFILE`. */
  readonly profile?: string | undefined
  /** The CLI executable. Default `DATABRICKS_CLI_PATH`, else `databricks` on the `PATH`. */
  readonly cliPath?: string | undefined
  /** Deadline for one run of the CLI. Default 30 seconds. */
  readonly timeout?: Duration.DurationInput | undefined
  /** See `TokenSource.MakeOptions.refreshAhead`. Default 5 minutes. */
  readonly refreshAhead?: Duration.DurationInput | undefined
}

const Output = Schema.Struct({
  access_token: Schema.String.pipe(Schema.minLength(1)),
  token_type: Schema.optional(Schema.String),
  expiry: Schema.optional(Schema.String)
})

/**
 * The CLI's `expiry`, honouring its offset; `undefined` when absent or not
 * RFC 3339 with an offset. It never throws.
 *
 * @since 0.1.0
 * @category utils
 */
export const parseExpiry = (expiry: string | undefined): DateTime.Utc | undefined => {
  const millis = typeof expiry === "string" ? Expiry.parseRfc3339(expiry) : undefined
  return millis === undefined ? undefined : Option.getOrUndefined(DateTime.make(millis))
}

/** An optional string option: a string without control characters (it becomes a command-line argument). */
const optionalArgument = (value: unknown, setting: string, hint: string) =>
  value === undefined
    ? Effect.succeed(undefined)
    : typeof value !== "string"
    ? OptionChecks.optionalString(value, setting, hint)
    // eslint-disable-next-line no-control-regex
    : /[\u0000-\u001f\u007f]/.test(value)
    ? Effect.fail(
      new ConfigurationError({
        setting,
        message: `${setting} contains a line break or another control character (the value is not shown)`,
        hint
      })
    )
    : Effect.succeed(value)

/**
 * The default `layerConfig` reads, each when set: `DATABRICKS_HOST`,
 * `DATABRICKS_CONFIG_PROFILE` and `DATABRICKS_CLI_PATH`.
 *
 * @since 0.3.0
 * @category config
 */
export const config: Config.Config.Wrap<Options> = {
  host: Credential.optional("DATABRICKS_HOST"),
  profile: Credential.optional("DATABRICKS_CONFIG_PROFILE"),
  cliPath: Credential.optional("DATABRICKS_CLI_PATH")
}

interface Names {
  readonly host: string
  readonly profile: string
  readonly cliPath: string
}

const optionNames: Names = { host: "host", profile: "profile", cliPath: "cliPath" }
const envNames: Names = {
  host: "DATABRICKS_HOST",
  profile: "DATABRICKS_CONFIG_PROFILE",
  cliPath: "DATABRICKS_CLI_PATH"
}

/** "Pass the workspace URL" for an option, "Set it to the workspace URL" for a variable. */
const hint = (name: string, what: string) => name in optionNames ? `Pass ${what}` : `Set it to ${what}`

const build = (options: Options, names: Names) =>
  Effect.gen(function*() {
    // Untyped callers: every option is checked before it is used, so a wrong type is a ConfigurationError.
    const profileInput = yield* optionalArgument(
      options.profile,
      names.profile,
      hint(names.profile, "the name of a ~/.databrickscfg profile")
    )
    const hostInput = yield* optionalArgument(options.host, names.host, hint(names.host, "the workspace URL"))
    const cliInput = yield* optionalArgument(
      options.cliPath,
      names.cliPath,
      hint(names.cliPath, "the path of the databricks executable")
    )
    yield* OptionChecks.durations(options, ["timeout", "refreshAhead"])
    const profile = profileInput?.trim() || undefined
    if (profile === undefined && (hostInput === undefined || hostInput.trim() === "")) {
      return yield* Effect.fail(
        new ConfigurationError({
          setting: names.host,
          message: "DatabricksCli needs a host or a profile",
          hint: names === optionNames
            ? "Pass host or profile"
            : `Pass host or profile, or set ${names.host} or ${names.profile}`
        })
      )
    }
    const host = hostInput === undefined ? undefined : yield* WorkspaceHost.make(hostInput, { setting: names.host })
    const cli = cliInput?.trim() || "databricks"
    const timeout = Duration.decode(options.timeout ?? Duration.seconds(30))
    const args = profile !== undefined
      ? ["auth", "token", "--profile", profile]
      : ["auth", "token", "--host", host!.url]
    const shown = `${cli} ${args.join(" ")}`
    const target = profile !== undefined ? `--profile ${profile}` : `--host ${host!.url}`
    const run = yield* Cli.runner({
      cli,
      what: "The Databricks CLI",
      notFoundHint:
        "Install the Databricks CLI (version 0.207.1 or later) or choose another auth type; set DATABRICKS_CLI_PATH if it is not on the PATH",
      timeoutHint: "Run it by hand to see whether it waits for input; log in again with databricks auth login",
      timeout
    })

    const fetch = Effect.gen(function*() {
      const stdout = yield* run(args).pipe(
        Effect.catchTag("Failed", (failed) =>
          Effect.fail(
            new AuthenticationError({
              message: `${shown} failed with exit code ${failed.exitCode}${
                failed.output === "" ? "" : `: ${failed.output}`
              }`,
              hint: /databricks OAuth is not/i.test(failed.output)
                ? `This profile or host has no OAuth login; run databricks auth login ${target}`
                : `Run databricks auth login ${target}, then try again`
            })
          ))
      )
      // The decode error is not kept: it would print the output, token included.
      const output = Schema.decodeUnknownOption(Output)(Cli.json(stdout))
      if (Option.isNone(output) || (output.value.token_type ?? "bearer").toLowerCase() !== "bearer") {
        return yield* Effect.fail(
          new AuthenticationError({
            message: `${shown} did not print a bearer token as JSON`,
            hint: "Update the Databricks CLI to 0.207.1 or later (the legacy Python CLI is not supported)"
          })
        )
      }
      // Checked here too (TokenSource.make would) so the message names the command that printed it.
      const value = yield* TokenValue.issued(Redacted.make(output.value.access_token), shown)
      const token = Redacted.value(value)
      const now = yield* Clock.currentTimeMillis
      // The `expiry` field, else the JWT exp; an absurd one is clamped by the one expiry rule, never thrown.
      const expiresAt = yield* Expiry.resolve({ expiresAt: output.value.expiry, token }, now)
      yield* Effect.logInfo(
        Option.match(Jwt.subject(token), {
          onNone: () => `databricks-cli: token for ${target} (opaque; the principal is not visible)`,
          onSome: (sub) => `databricks-cli: token for ${target} belongs to ${sub}`
        })
      )
      return { value, expiresAt: Option.getOrUndefined(expiresAt) } satisfies TokenSource.IssuedToken
    }).pipe(Effect.withSpan("DatabricksCli.fetchToken"))

    return yield* TokenSource.make(fetch, { authType: "databricks-cli", refreshAhead: options.refreshAhead })
  })

const blank = (value: unknown) => typeof value !== "string" || value.trim() === ""

/**
 * The options as given; those left out (a blank profile or CLI path too) are
 * read from `config`, the Databricks names. A profile, given or read, wins
 * over a host read from `DATABRICKS_HOST`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<
  TokenSource.TokenSource,
  ConfigurationError,
  CommandExecutor.CommandExecutor | Scope.Scope
> =>
  Effect.gen(function*() {
    const given: Options = typeof options === "object" && options !== null ? options : {}
    // A wrong type from untyped code is named by its option before anything is read.
    yield* optionalArgument(given.profile, "profile", hint("profile", "the name of a ~/.databrickscfg profile"))
    yield* optionalArgument(given.cliPath, "cliPath", hint("cliPath", "the path of the databricks executable"))
    const read = yield* Credential.read(config, {})
    const profileFromEnv = blank(given.profile)
    const profile = profileFromEnv ? read.profile : given.profile
    const hostFromEnv = given.host === undefined
    const cliFromEnv = blank(given.cliPath)
    return yield* build({
      ...given,
      profile,
      host: hostFromEnv ? (blank(profile) ? read.host : undefined) : given.host,
      cliPath: cliFromEnv ? read.cliPath : given.cliPath
    }, {
      host: hostFromEnv ? envNames.host : optionNames.host,
      profile: profileFromEnv ? envNames.profile : optionNames.profile,
      cliPath: cliFromEnv ? envNames.cliPath : optionNames.cliPath
    })
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options?: Options
): Layer.Layer<TokenSource.TokenSource, ConfigurationError, CommandExecutor.CommandExecutor> =>
  Layer.scoped(TokenSource.TokenSource, make(options))

/**
 * Reads the options through `Config` only: by default `config`, the
 * Databricks names. A setting that is unreadable is a `ConfigurationError`
 * naming it.
 *
 * @since 0.3.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<Options> = config
): Layer.Layer<TokenSource.TokenSource, ConfigurationError, CommandExecutor.CommandExecutor> =>
  Layer.scoped(
    TokenSource.TokenSource,
    Effect.flatMap(
      Credential.read(options, {}),
      (read) => build(read, Credential.namesFor(options, { config, optionNames, envNames }))
    )
  )
