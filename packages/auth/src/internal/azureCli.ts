import type * as CommandExecutor from "@effect/platform/CommandExecutor"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type { Options } from "../AzureCli.js"
import { AuthenticationError, type ConfigurationError } from "../DatabricksError.js"
import * as TokenSource from "../TokenSource.js"
import * as Azure from "./azure.js"
import * as Cli from "./cli.js"
import * as Expiry from "./expiry.js"
import * as Jwt from "./jwt.js"
import * as OptionChecks from "./options.js"
import * as TokenValue from "./tokenValue.js"

/**
 * @internal
 *
 * `azure-cli`: `az account get-access-token --resource R --output json
 * [--tenant T] [--subscription S]`, run bounded like the Databricks CLI is
 * (a deadline, stderr redacted). As databricks-sdk-go config/auth_azure_cli.go
 * does: the subscription of the workspace resource id is tried first when no
 * tenant is set, and dropped if that fails; a service-principal login whose
 * `--tenant` run fails is tried again without it (a managed identity or a
 * federated login takes no tenant); the management token is sent for a
 * service principal (a token without `upn`) and skipped when it cannot be had.
 */

export interface Names {
  readonly tenantId: string
  readonly workspaceResourceId: string
  readonly environment: string
}

export const optionNames: Names = {
  tenantId: "tenantId",
  workspaceResourceId: "workspaceResourceId",
  environment: "environment"
}

export const envNames: Names = {
  tenantId: "ARM_TENANT_ID",
  workspaceResourceId: "DATABRICKS_AZURE_RESOURCE_ID",
  environment: "ARM_ENVIRONMENT"
}

const Output = Schema.Struct({
  accessToken: Schema.String.pipe(Schema.minLength(1)),
  tokenType: Schema.optional(Schema.String),
  expiresOn: Schema.optional(Schema.String),
  expires_on: Schema.optional(Schema.Number)
})

/** The CLI's `expiresOn`, `YYYY-MM-DD HH:MM:SS[.ffffff]` in the machine's local time. */
export const parseLocalExpiry = (text: string): number | undefined => {
  const match = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/.exec(text.trim())
  if (match === null) return undefined
  const [, y, mo, d, h, mi, s, fraction] = match
  const millis = new Date(
    +y,
    +mo - 1,
    +d,
    +h,
    +mi,
    +s,
    fraction === undefined ? 0 : Math.floor(+fraction.padEnd(6, "0") / 1000)
  )
    .getTime()
  return Number.isNaN(millis) ? undefined : millis
}

/** A user's token has `upn`; a service principal's, a managed identity's or a federated login's has none. */
const isUserToken = (token: string): boolean => Option.isSome(Jwt.stringClaim(token, "upn"))

export const make = (options: Options, names: Names): Effect.Effect<
  TokenSource.TokenSource,
  ConfigurationError,
  CommandExecutor.CommandExecutor | Scope.Scope
> =>
  Effect.gen(function*() {
    const tenantText = options.tenantId === undefined || options.tenantId.trim() === ""
      ? undefined
      : yield* TokenValue.configuredText(options.tenantId, {
        name: names.tenantId,
        hint: "Use the Directory (tenant) ID"
      })
    const tenant = tenantText === undefined ? undefined : yield* Azure.tenant(tenantText, names.tenantId)
    yield* OptionChecks.optionalString(options.cliPath, "cliPath", "Pass the path of the az executable")
    yield* OptionChecks.optionalString(options.resource, "resource", "Leave it out for Azure Databricks")
    yield* OptionChecks.durations(options, ["timeout", "refreshAhead"])
    const cloud = yield* Azure.cloud(options.environment, names.environment)
    const resourceId = yield* Azure.workspaceResourceId(options.workspaceResourceId, names.workspaceResourceId)
    const subscription = resourceId === undefined ? undefined : Azure.subscriptionOf(resourceId)
    const resource = options.resource?.trim() || Azure.databricksResource
    const cli = options.cliPath?.trim() || "az"
    const timeout = Duration.decode(options.timeout ?? Duration.seconds(30))
    const run = yield* Cli.runner({
      cli,
      what: "The Azure CLI",
      notFoundHint: "Install the Azure CLI and run az login, or choose another auth type",
      timeoutHint: "Run it by hand to see whether it waits for input; log in again with az login",
      timeout
    })

    const accountIsServicePrincipal = run(["account", "show", "--output", "json"]).pipe(
      Effect.map((stdout) =>
        (Cli.json(stdout) as { user?: { type?: unknown } } | undefined)?.user?.type === "servicePrincipal"
      ),
      Effect.orElseSucceed(() => false)
    )

    const failed = (args: ReadonlyArray<string>, error: Cli.Failed) => {
      const code = Azure.aadstsCode(error.output)
      const login = `az login${tenant === undefined ? "" : ` --tenant ${tenant}`}`
      return new AuthenticationError({
        message: `${cli} ${args.join(" ")} failed with exit code ${error.exitCode}${
          error.output === "" ? "" : `: ${Azure.shortDescription(error.output)}`
        }`,
        hint: /az login|az account set/i.test(error.output)
          ? `The Azure CLI is not logged in: run ${login}`
          : Azure.hintFor(code, { clientId: "the logged-in principal", tenantId: names.tenantId }) ??
            `Run ${login}, then try again`
      })
    }

    /** One `get-access-token` for a resource, with the SDK's fallbacks for the subscription and the tenant. */
    const getToken = (forResource: string) =>
      Effect.gen(function*() {
        const base = ["account", "get-access-token", "--resource", forResource, "--output", "json"]
        const withTenant = tenant === undefined ? base : [...base, "--tenant", tenant]
        const attempt = (args: ReadonlyArray<string>) => Effect.map(run(args), (stdout) => ({ stdout, args }))
        const plain = attempt(withTenant).pipe(
          Effect.catchIf(
            (error): error is Cli.Failed => error instanceof Cli.Failed && tenant !== undefined,
            (error) =>
              Effect.flatMap(accountIsServicePrincipal, (isServicePrincipal) =>
                isServicePrincipal
                  ? Effect.zipLeft(
                    attempt(base),
                    Effect.logInfo(
                      "azure-cli: the run with --tenant failed for a service-principal login; ran it without"
                    )
                  )
                  : Effect.fail(error))
          )
        )
        const result = subscription !== undefined && tenant === undefined
          ? yield* attempt([...base, "--subscription", subscription]).pipe(
            Effect.catchIf(
              (error): error is Cli.Failed => error instanceof Cli.Failed,
              () =>
                Effect.zipRight(
                  Effect.logInfo("azure-cli: no token for the workspace's subscription; using a resource-only token"),
                  plain
                )
            )
          )
          : yield* plain
        return result
      }).pipe(
        Effect.catchIf(
          (error): error is Cli.Failed => error instanceof Cli.Failed,
          (error) => Effect.fail(failed(["account", "get-access-token", "--resource", forResource], error))
        )
      )

    const fetchFor = (forResource: string) =>
      Effect.gen(function*() {
        const { args, stdout } = yield* getToken(forResource)
        const shown = `${cli} ${args.join(" ")}`
        // The decode error is not kept: it would print the output, token included.
        const output = Schema.decodeUnknownOption(Output)(Cli.json(stdout))
        if (Option.isNone(output) || (output.value.tokenType ?? "bearer").toLowerCase() !== "bearer") {
          return yield* Effect.fail(
            new AuthenticationError({
              message: `${shown} did not print a bearer token as JSON`,
              hint: "Update the Azure CLI (az upgrade) and check that az account get-access-token works"
            })
          )
        }
        const value = yield* TokenValue.issued(Redacted.make(output.value.accessToken), shown)
        const now = yield* Clock.currentTimeMillis
        const at = output.value.expires_on !== undefined
          ? output.value.expires_on * 1000
          : output.value.expiresOn === undefined
          ? undefined
          : parseLocalExpiry(output.value.expiresOn)
        const expiresAt = yield* Expiry.resolve(
          at === undefined ? { token: Redacted.value(value) } : { expiresIn: Math.max(0, at - now) },
          now
        )
        return { value, expiresAt: Option.getOrUndefined(expiresAt) } satisfies TokenSource.IssuedToken
      }).pipe(Effect.withSpan("AzureCli.fetchToken", { attributes: { "azure.resource": forResource } }))

    const source = yield* TokenSource.make(fetchFor(resource), {
      authType: "azure-cli",
      refreshAhead: options.refreshAhead
    })
    if (resourceId === undefined) return source
    const management = yield* TokenSource.make(fetchFor(cloud.managementResource), {
      authType: "azure-cli",
      refreshAhead: options.refreshAhead
    })
    // A user's token (it has `upn`) gets no management token; a service principal's is sent when it can be had.
    const headers = Effect.flatMap(source.token, (token) =>
      isUserToken(Redacted.value(token.value))
        ? Effect.succeed({ [Azure.workspaceResourceIdHeader]: resourceId })
        : management.token.pipe(
          Effect.map((managementToken) => ({
            [Azure.workspaceResourceIdHeader]: resourceId,
            [Azure.spManagementTokenHeader]: Redacted.value(managementToken.value)
          })),
          Effect.catchAll((error) =>
            Effect.as(
              Effect.logDebug(`azure-cli: not sending the management token: ${error.message}`),
              { [Azure.workspaceResourceIdHeader]: resourceId }
            )
          )
        ))
    return { ...source, headers }
  })
