/**
 * Workload identity federation (`github-oidc`) in a GitHub Actions job: the
 * job's OIDC ID token, requested from the Actions ID-token endpoint
 * (`ACTIONS_ID_TOKEN_REQUEST_URL` with `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, set
 * when the job has `permissions: id-token: write`), exchanged for a workspace
 * token.
 *
 * - The ID token is requested for `audience` (`DATABRICKS_TOKEN_AUDIENCE`),
 *   or by default for the workspace's token endpoint, as the Databricks SDKs
 *   do; the federation policy must list that audience.
 * - A new ID token is requested for every exchange; the workspace token is
 *   cached and refreshed ahead of expiry by `TokenSource.make`.
 * - With `clientId` (`DATABRICKS_CLIENT_ID`) the exchange is for that service
 *   principal's federation policy; without, for the account-wide policy.
 * - The request token and the ID token never appear in an error, a log line
 *   or a span; the ID-token endpoint's redirects are not followed.
 *
 * @since 0.3.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type { ConfigurationError } from "./DatabricksError.js"
import { AuthenticationError, type DatabricksError } from "./DatabricksError.js"
import * as Credential from "./internal/credential.js"
import * as Federation from "./internal/federation.js"
import * as HttpErrors from "./internal/httpErrors.js"
import * as Oidc from "./internal/oidc.js"
import * as Redirects from "./internal/redirects.js"
import * as Retry from "./internal/retry.js"
import * as TokenValue from "./internal/tokenValue.js"
import type * as TokenSource from "./TokenSource.js"

/**
 * @since 0.3.0
 * @category options
 */
export interface Options {
  /** The workspace URL. */
  readonly host: string
  /** The service principal whose federation policy trusts the token; leave it out for an account-wide policy. */
  readonly clientId?: string | undefined
  /** The Actions ID-token endpoint (`ACTIONS_ID_TOKEN_REQUEST_URL`). */
  readonly requestUrl: string
  /** The bearer token for it (`ACTIONS_ID_TOKEN_REQUEST_TOKEN`). */
  readonly requestToken: Redacted.Redacted<string>
  /** The audience to request the ID token for. Default: the workspace's token endpoint. */
  readonly audience?: string | undefined
  /** Default `["all-apis"]`. */
  readonly scopes?: ReadonlyArray<string> | undefined
  /** Skip discovery and use this token endpoint (for example `{host}/oidc/v1/token`). */
  readonly tokenEndpoint?: string | undefined
  /** See `TokenSource.MakeOptions.refreshAhead`. Default 5 minutes. */
  readonly refreshAhead?: Duration.DurationInput | undefined
  /** Deadline for one HTTP request (the ID-token endpoint, the workspace). Default 30 seconds. */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /** Transient-failure retries: `times` (default 4), `base` (250 ms), `maxDelay` (5 s). */
  readonly retry?: Retry.RetryOptions | undefined
}

const optional = Credential.optional

/**
 * The default `layerConfig` reads: `DATABRICKS_HOST`,
 * `ACTIONS_ID_TOKEN_REQUEST_URL`, `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, and when
 * set `DATABRICKS_CLIENT_ID` and `DATABRICKS_TOKEN_AUDIENCE`.
 *
 * @since 0.3.0
 * @category config
 */
export const config: Config.Config.Wrap<Options> = {
  host: Config.string("DATABRICKS_HOST"),
  clientId: optional("DATABRICKS_CLIENT_ID"),
  requestUrl: Config.string("ACTIONS_ID_TOKEN_REQUEST_URL"),
  requestToken: Config.redacted("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
  audience: optional("DATABRICKS_TOKEN_AUDIENCE")
}

interface Names {
  readonly host: string
  readonly clientId: string
  readonly requestUrl: string
  readonly requestToken: string
  readonly audience: string
}

const names: Names = {
  host: "host",
  clientId: "clientId",
  requestUrl: "requestUrl",
  requestToken: "requestToken",
  audience: "audience"
}
const envNames: Names = {
  host: "DATABRICKS_HOST",
  clientId: "DATABRICKS_CLIENT_ID",
  requestUrl: "ACTIONS_ID_TOKEN_REQUEST_URL",
  requestToken: "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
  audience: "DATABRICKS_TOKEN_AUDIENCE"
}

const permissionHint =
  "Give the job `permissions: id-token: write` (GitHub sets ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN only then)"

const IdTokenResponse = Schema.Struct({ value: Schema.String })

const build = (options: Options, settingNames: Names) =>
  Effect.gen(function*() {
    const { clientId } = yield* Federation.checkCommon(options, settingNames)
    const requestUrl = yield* TokenValue.configuredText(options.requestUrl, {
      name: settingNames.requestUrl,
      hint: permissionHint
    }).pipe(Effect.flatMap((url) => Oidc.checkEndpoint(url, settingNames.requestUrl)))
    const requestToken = yield* TokenValue.configuredSecret(options.requestToken, {
      name: settingNames.requestToken,
      hint: permissionHint
    })
    const audience = options.audience === undefined || options.audience.trim() === ""
      ? undefined
      : options.audience.trim()
    const http = yield* HttpClient.HttpClient
    const timeout = Duration.decode(options.requestTimeout ?? Duration.seconds(30))
    const what = "GitHub Actions' ID-token endpoint"

    // The SDKs append `&audience=<aud>` to the URL, which already carries `?api-version=…`; setting the query
    // parameter sends the same, encoded.
    const idToken = (forAudience: string): Effect.Effect<Redacted.Redacted<string>, DatabricksError> =>
      Effect.gen(function*() {
        const url = new URL(requestUrl)
        url.searchParams.set("audience", forAudience)
        const request = HttpClientRequest.get(url.toString()).pipe(
          HttpClientRequest.acceptJson,
          HttpClientRequest.bearerToken(Redacted.value(requestToken))
        )
        const response = yield* Redirects.execute(http, request).pipe(
          Effect.mapError((error) => HttpErrors.fromTransport(error, what)),
          Effect.timeoutFail({ duration: timeout, onTimeout: () => HttpErrors.timeout(what, timeout) })
        )
        if (response.status !== 200) {
          const details = yield* HttpErrors.errorDetails(response, [requestToken])
          const transient = details.status === 429 || details.status >= 500
          return yield* Effect.fail(
            transient ? HttpErrors.fromStatus(details, what)! : new AuthenticationError({
              message: `${what} answered HTTP ${details.status}${
                details.description === undefined ? "" : `: ${details.description}`
              }`,
              status: details.status,
              hint: details.status === 401 || details.status === 403
                ? `Check ${settingNames.requestToken}: it is valid only within the job that GitHub issued it to. ${permissionHint}`
                : `Check ${settingNames.requestUrl}. ${permissionHint}`
            })
          )
        }
        const body = yield* response.json.pipe(Effect.orElseSucceed(() => undefined))
        const decoded = Schema.decodeUnknownOption(IdTokenResponse)(body)
        const jwt = Option.isNone(decoded)
          ? Either.left(`${what} answered without an ID token ("value")`)
          : Federation.checkedJwt(decoded.value.value, what)
        if (Either.isLeft(jwt)) {
          return yield* Effect.fail(
            new AuthenticationError({ message: jwt.left, hint: `Check ${settingNames.requestUrl}` })
          )
        }
        return jwt.right
      }).pipe(Effect.retry(Retry.transient("the GitHub ID-token request", options.retry)))

    return yield* Federation.make({
      authType: "github-oidc",
      host: options.host,
      hostSetting: settingNames.host,
      clientId,
      clientIdSetting: settingNames.clientId,
      scopes: options.scopes,
      tokenEndpoint: options.tokenEndpoint,
      audience,
      audienceSetting: settingNames.audience,
      source: what,
      freshHint: "A new ID token is requested for every exchange; check the clocks of the runner and the workspace",
      idToken,
      refreshAhead: options.refreshAhead,
      requestTimeout: options.requestTimeout,
      retry: options.retry
    })
  })

const credential = Credential.make({
  build,
  optionNames: names,
  envNames,
  config,
  hints: {
    DATABRICKS_HOST: "Set it to the workspace URL",
    ACTIONS_ID_TOKEN_REQUEST_URL: permissionHint,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: permissionHint
  },
  notAnObject: {
    message: "GitHubOidc needs an options object with host, requestUrl and requestToken",
    hint: "Pass { host, requestUrl, requestToken: Redacted.make(...) }, or use GitHubOidc.layerConfig()"
  }
})

/**
 * @since 0.3.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<
  TokenSource.TokenSource,
  ConfigurationError,
  HttpClient.HttpClient | Scope.Scope
> => credential.make(options)

/**
 * The entry point for a resolved configuration: host, client id, the
 * ID-token endpoint and its token passed explicitly.
 *
 * @since 0.3.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<TokenSource.TokenSource, ConfigurationError, HttpClient.HttpClient> => credential.layer(options)

/**
 * Reads the options through `Config`: by default `config`, the Databricks
 * names. A setting that is missing or unreadable is a `ConfigurationError`
 * naming it.
 *
 * @since 0.3.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<Options> = config
): Layer.Layer<TokenSource.TokenSource, ConfigurationError, HttpClient.HttpClient> => credential.layerConfig(options)
