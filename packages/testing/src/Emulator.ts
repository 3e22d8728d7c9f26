/**
 * A loopback stand-in for a Databricks workspace and a Posit Connect server,
 * for tests and demos with no workspace.
 *
 * - The **workspace host** serves HTTPS on 127.0.0.1 with a certificate made
 *   at start: the OIDC identity provider (`/oidc/...`: discovery,
 *   `client_credentials`, the PKCE code flow, rotating refresh tokens), SCIM
 *   `Me`, the SQL Warehouses API (`GET /api/2.0/sql/warehouses`), the SQL
 *   warehouse itself, and the admin API (`/__emulator/...`).
 * - The **Connect server** serves HTTP on 127.0.0.1: `server_settings` and the
 *   OAuth credential exchange, with Connect's wire format and errors.
 *
 * Both listen on random ports unless told otherwise, and close with every
 * open socket when the layer's scope ends. Time comes from Effect's `Clock`,
 * so under `TestClock` tokens and codes expire when the test says.
 *
 * @since 0.1.0
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import type { EmulatorError, SqlSeedError } from "./EmulatorError.js"
import * as internalFault from "./internal/emulator/fault.js"
import * as internal from "./internal/emulator/make.js"

/**
 * A user or service principal known to the emulated workspace. For a service
 * principal, `userName` is its application (client) id, as SCIM reports it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Principal {
  readonly id: string
  readonly kind: "user" | "service-principal"
  readonly userName: string
  readonly displayName: string
}

/**
 * A Posit Connect OAuth integration associated with the emulated content
 * item. A `"viewer"` integration exchanges user-session tokens for the
 * viewer's own token; a `"service-account"` one exchanges content-session
 * tokens for a token of `servicePrincipal` (a client id; the default service
 * principal when absent).
 *
 * @since 0.1.0
 * @category models
 */
export interface ConnectIntegration {
  readonly guid: string
  readonly name: string
  readonly authType: "viewer" | "service-account"
  readonly servicePrincipal?: string | undefined
}

/**
 * What a fault can target. `"*"` is every endpoint.
 *
 * - REST endpoints, by name: `"discovery"` (the OIDC metadata), `"token"`,
 *   `"authorize"`, `"scim"` (SCIM `Me`), `"sql_warehouses"` (the SQL
 *   Warehouses API, `GET /api/2.0/sql/warehouses` and `…/{id}`), and on the
 *   Connect server `"server_settings"` and `"exchange"`.
 * - The SQL warehouse's Thrift calls, by RPC name (`"OpenSession"`,
 *   `"ExecuteStatement"`, ...), or `"warehouse"` for a warehouse-wide fault
 *   (`startingMs`, `expireSessions`).
 * - `"cloudFetch"`: the downloads of CloudFetch result files (the emulator's
 *   stand-in for cloud storage). `status: 403` with no `body` answers as
 *   storage does for an expired link (XML `AccessDenied`, "Request has
 *   expired"); `delayMs` is a slow download; `reset: "during"` sends the
 *   headers and half the file, then destroys the connection; `reset:
 *   "before"` destroys it at once, `"after"` once the file was handed over
 *   (and dropped); `emptyBody` answers with no body.
 *
 * @since 0.1.0
 * @category faults
 */
export const FaultTarget: typeof internalFault.FaultTarget = internalFault.FaultTarget

/**
 * An injected fault, as the admin API's `POST /__emulator/faults` takes it.
 *
 * - `status`, `headers`, `body`: answer with this instead of the real handler.
 * - `emptyBody`: answer HTTP `status` (default 200) with no body at all.
 * - `delayMs`: wait first (on Effect's `Clock`).
 * - `reset`: destroy the connection `"before"` handling, or `"after"` the
 *   handler ran (its side effects happen, the client hears nothing), or
 *   (`"cloudFetch"` only) `"during"` the body: half the file, then nothing.
 * - `count`: how many matching requests it hits (default 1; unlimited with
 *   `probability`). `probability` with `seed` hits a reproducible share.
 *
 * @since 0.1.0
 * @category faults
 */
export const Fault: typeof internalFault.Fault = internalFault.Fault

/**
 * @since 0.1.0
 * @category faults
 */
export type Fault = typeof internalFault.Fault.Type

/**
 * One request as the stats remember it: never a secret, never a query string.
 *
 * @since 0.1.0
 * @category stats
 */
export interface RecentRequest {
  readonly method: string
  readonly path: string
  readonly endpoint: string
  readonly status: number
  readonly principal?: string
  /** The client's `User-Agent`, when it sent one. */
  readonly userAgent?: string
  /** For form posts (token, exchange): the names of the parameters sent, sorted. Never their values. */
  readonly params?: ReadonlyArray<string>
}

/**
 * The counters, as `GET /__emulator/stats` returns them.
 *
 * @since 0.1.0
 * @category stats
 */
export interface Stats {
  /** Token endpoint requests by `grant_type`, failed ones included. */
  readonly tokenRequests: Readonly<Record<string, number>>
  /** Connect exchanges by `subject_token_type`. */
  readonly exchanges: Readonly<Record<string, number>>
  /** Requests by endpoint (`token`, `authorize`, `scim`, `sql_warehouses`, `exchange`, ...). */
  readonly requests: Readonly<Record<string, number>>
  /** Injected faults by endpoint. */
  readonly faultsInjected: Readonly<Record<string, number>>
  /** The last 200 requests, oldest first. */
  readonly recentRequests: ReadonlyArray<RecentRequest>
  /** SQL warehouse calls by Thrift RPC name. */
  readonly rpc: Readonly<Record<string, number>>
  /** Sessions and operations open now, for leak checks. */
  readonly openSessions: number
  readonly openOperations: number
  /** The sessions open now, oldest first: which principal left one open, since when, and what ran in it. */
  readonly sessions: ReadonlyArray<OpenSession>
  /** Every statement executed, in order: proof of what ran, how often, and how it ended. */
  readonly statements: ReadonlyArray<StatementLog>
  /** CloudFetch: links handed out, result files served and refused. */
  readonly cloudFetch: CloudFetchStats
  /** Workload identity federation: token exchanges accepted and refused (by reason), GitHub ID tokens issued. */
  readonly federation: FederationStats
}

/**
 * CloudFetch counters. Download requests also count in `requests.cloudFetch`
 * (and `recentRequests`, with the link's secret id hidden).
 *
 * @since 0.1.0
 * @category stats
 */
export interface CloudFetchStats {
  /** Result links handed out (in FetchResults and direct results). */
  readonly links: number
  /** Result files served whole. */
  readonly downloads: number
  /** Bytes of the files served whole, as sent (LZ4 frames when compressed). */
  readonly bytes: number
  /** Downloads refused with 403 because the link had expired (injected expiries included). */
  readonly expired: number
  /** Files stored now: handed out, neither downloaded whole nor expired yet. */
  readonly stored: number
}

/**
 * A session open on the warehouse. Its `id` is the one in `StatementLog.sessionId`.
 *
 * @since 0.1.0
 * @category models
 */
export interface OpenSession {
  readonly id: string
  /** The `userName` of the principal that opened it. */
  readonly principal: string
  /** When it was opened, in epoch milliseconds. */
  readonly openedAt: number
  /** Its operations not yet closed. */
  readonly openOperations: number
}

/**
 * One statement the warehouse ran. `state` is the last state it reached
 * (`CANCELED` for one cancelled while queued or running), closing aside.
 *
 * @since 0.1.0
 * @category models
 */
export interface StatementLog {
  readonly text: string
  readonly principal: string
  readonly sessionId: string
  readonly state: "PENDING" | "RUNNING" | "FINISHED" | "ERROR" | "CANCELED"
}

/**
 * @since 0.1.0
 * @category options
 */
export interface Options {
  /** The workspace host's port; 0 (the default) picks a free one. */
  readonly port?: number | undefined
  /** The Connect server's port; 0 (the default) picks a free one. */
  readonly connectPort?: number | undefined
  /** The workload identity provider's port (test issuers, GitHub Actions stand-in); 0 (the default) picks a free one. */
  readonly federationPort?: number | undefined
  /** Lifetime of the access tokens the identity provider issues. Default 3600 seconds. */
  readonly tokenLifetime?: Duration.DurationInput | undefined
  /**
   * The user the authorize endpoint approves as, and who owns the default PAT. `password` is theirs on the
   * login page (default: a random one, `Emulator.userPassword`).
   */
  readonly user?: {
    readonly userName: string
    readonly displayName: string
    readonly password?: Redacted.Redacted<string> | undefined
  } | undefined
  /**
   * Serve the login and consent page at the authorize endpoint (an HTML form: user name, password, "Allow",
   * "Deny"), for tests that drive a real browser, instead of approving as `user` at once. Default false; see
   * `Emulator.setAuthorize` to switch it on a running emulator.
   */
  readonly loginPage?: boolean | undefined
  /** Seed `samples.nyctaxi.trips` (1000 rows, the columns of Databricks' sample table). Default false. */
  readonly samples?: boolean | undefined
  readonly warehouse?: {
    /** `"arrow"` (Arrow IPC batches, as real warehouses send; the default) or `"columns"` (COLUMN_BASED_SET). */
    readonly resultFormat?: "arrow" | "columns" | undefined
    /** Extra run time for every statement (a `/* emulator:sleep=ms *\/` hint adds to it). */
    readonly statementDelay?: Duration.DurationInput | undefined
    /** How long ExecuteStatement waits to answer with direct results. Default 250 ms. */
    readonly directResultsWait?: Duration.DurationInput | undefined
    /**
     * Rows per Arrow record batch: a FetchResults page carries several batches
     * when the client's `maxRows` allows. Default 4096 (a warehouse sends
     * 10000 rows in more than one batch).
     */
    readonly maxBatchRows?: number | undefined
    /**
     * Bytes of inline Arrow per FetchResults page (at least one batch is
     * sent; a client's `maxBytes` lowers it). Default 8 MiB.
     */
    readonly maxBytesPerFetch?: number | undefined
    /**
     * A result of more Arrow bytes than this travels by CloudFetch
     * (`URL_BASED_SET`) when the client allows it (`canDownloadResult`, the
     * Node driver's default `useCloudFetch: true`). Default 4 MiB; set it to
     * 0 to send every non-empty result by CloudFetch.
     */
    readonly cloudFetchThreshold?: number | undefined
    /**
     * Bytes of Arrow per CloudFetch result file (at least one batch each; a
     * client's `maxBytesPerFile` lowers it). Default 20 MiB, as the
     * Databricks JDBC documentation describes result files.
     */
    readonly cloudFetchFileBytes?: number | undefined
    /**
     * Links per FetchResults page, whatever the page's `maxRows` (as a
     * warehouse hands out more links than the driver downloads at once).
     * Default 8.
     */
    readonly cloudFetchLinksPerFetch?: number | undefined
    /**
     * How long a CloudFetch link works, on Effect's `Clock`. Default 15
     * minutes (the Databricks SDK: external links expire in 15 minutes or
     * less). Clients check the expiry against their own clock: under
     * `TestClock` (time 0 unless set) the Node driver refuses the links as
     * expired, so set the test clock to the real time first.
     */
    readonly cloudFetchLinkExpiry?: Duration.DurationInput | undefined
  } | undefined
  readonly connect?: {
    /** What `server_settings` reports. Default `2025.09.0`. */
    readonly version?: string | undefined
    /** The integrations associated with the content. Default: one viewer and one service-account integration. */
    readonly integrations?: ReadonlyArray<ConnectIntegration> | undefined
  } | undefined
}

/**
 * What a client needs to connect, with the secrets in the clear: the
 * `--json` line of `pnpm emulator`.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConnectionInfo {
  readonly host: string
  readonly httpPath: string
  readonly caCertPath: string
  readonly adminToken: string
  readonly pat: string
  readonly servicePrincipal: { readonly clientId: string; readonly clientSecret: string }
  readonly u2m: { readonly clientId: string }
  readonly connect: {
    readonly url: string
    readonly apiKey: string
    readonly userSessionToken: string
    readonly contentSessionToken: string
  }
}

/**
 * The running emulator.
 *
 * @since 0.1.0
 * @category models
 */
export interface Emulator {
  /** `https://127.0.0.1:PORT`. */
  readonly host: string
  /** The SQL warehouse's HTTP path, `/sql/1.0/warehouses/<id>`. */
  readonly httpPath: string
  /** Runs SQL as the administrator (to seed data), in the warehouse's `main.default`; answers the rows. */
  readonly sql: (sql: string) => Effect.Effect<ReadonlyArray<Record<string, unknown>>, SqlSeedError>
  /** Makes every query of `principal` that reads `table` fail with `[INSUFFICIENT_PERMISSIONS]`. */
  readonly deny: (principal: Principal, table: string) => Effect.Effect<void>
  /** The PEM of the workspace host's self-signed certificate: trust it as a CA. */
  readonly caCertPem: string
  /** The same PEM in a file, for tools that want a path; removed when the emulator stops. */
  readonly caCertPath: string
  /** Bearer token for the admin API. */
  readonly adminToken: Redacted.Redacted<string>
  /** The default user: the authorize endpoint approves as them, and `pat` is theirs. */
  readonly user: Principal
  /** The default user's password on the login page (see `Options.loginPage`). */
  readonly userPassword: Redacted.Redacted<string>
  /** A personal access token of `user`. */
  readonly pat: Redacted.Redacted<string>
  /** A service principal with an OAuth secret, for `client_credentials`. */
  readonly servicePrincipal: {
    readonly clientId: string
    readonly clientSecret: Redacted.Redacted<string>
    readonly principal: Principal
  }
  /** A public OAuth client registered for the PKCE code flow. */
  readonly u2m: { readonly clientId: string }
  /** The Connect server, its API key, and one session token of each kind. */
  readonly connect: {
    readonly url: string
    readonly apiKey: Redacted.Redacted<string>
    readonly userSessionToken: Redacted.Redacted<string>
    readonly contentSessionToken: Redacted.Redacted<string>
    readonly integrations: ReadonlyArray<ConnectIntegration>
  }
  /**
   * A user who can log in, hold PATs and be a Connect viewer. With a `password` they can also log in on the
   * login page (see `Options.loginPage`); without one, only through the authorize endpoint's silent approval.
   */
  readonly registerUser: (user: {
    readonly userName: string
    readonly displayName: string
    readonly password?: Redacted.Redacted<string> | undefined
  }) => Effect.Effect<Principal>
  /** A service principal with an OAuth secret (generated unless given), for `client_credentials`. */
  readonly registerServicePrincipal: (options?: {
    readonly displayName?: string | undefined
    readonly clientId?: string | undefined
    readonly clientSecret?: Redacted.Redacted<string> | undefined
  }) => Effect.Effect<
    { readonly clientId: string; readonly clientSecret: Redacted.Redacted<string>; readonly principal: Principal }
  >
  /** A PAT (`dapi…`) for a principal (default `user`), optionally expiring. */
  readonly registerPat: (options?: {
    readonly principal?: Principal | undefined
    readonly lifetime?: Duration.DurationInput | undefined
  }) => Effect.Effect<Redacted.Redacted<string>>
  /** An OAuth client for the code flow; confidential when it has a secret. */
  readonly registerOAuthClient: (options: {
    readonly clientId: string
    readonly clientSecret?: Redacted.Redacted<string> | undefined
  }) => Effect.Effect<void>
  /** A Connect user-session token for a user (default `user`). */
  readonly registerUserSessionToken: (
    options?: { readonly user?: Principal | undefined }
  ) => Effect.Effect<Redacted.Redacted<string>>
  /** A Connect content-session token. */
  readonly registerContentSessionToken: Effect.Effect<Redacted.Redacted<string>>
  /** Marks a Connect session token as expired: exchanges with it fail as Connect's do. */
  readonly expireSessionToken: (token: Redacted.Redacted<string>) => Effect.Effect<void>
  /** Replaces the integrations associated with the content. */
  readonly setConnectIntegrations: (integrations: ReadonlyArray<ConnectIntegration>) => Effect.Effect<void>
  /**
   * How the authorize endpoint answers from now on. Without the login page (the default), at once: approving
   * as `user` (default: the emulator's user), or denying (`error=access_denied`) with `decision: "deny"`. With
   * `loginPage: true`, with the login and consent page (see `Options.loginPage`), where the person at the
   * browser types a user name and password and chooses; `user` and `decision` then do not apply.
   */
  readonly setAuthorize: (options: {
    readonly user?: Principal | undefined
    readonly decision?: "approve" | "deny" | undefined
    readonly loginPage?: boolean | undefined
  }) => Effect.Effect<void>
  readonly faults: {
    /** Adds a fault; faults apply in the order they were added. */
    readonly add: (fault: Fault) => Effect.Effect<void>
    readonly clear: Effect.Effect<void>
    readonly list: Effect.Effect<ReadonlyArray<Fault>>
  }
  readonly stats: Effect.Effect<Stats>
  /** Workload identity federation: test issuers, the workspace's federation policies, GitHub Actions' ID tokens. */
  readonly federation: Federation
  /** Azure around the workspace: an Entra ID authority, a managed-identity endpoint, and an `az` for tests. */
  readonly azure: Azure
  /** The Databricks metadata service: a local token server for `DATABRICKS_METADATA_SERVICE_URL`. */
  readonly metadataService: MetadataService
  /** Clears faults and stats; principals and credentials stay. */
  readonly reset: Effect.Effect<void>
  /**
   * Plays the Databricks Apps proxy in front of an app listening at `options.target`, for the life of the scope.
   *
   * @since 0.3.0
   */
  readonly appsProxy: (options: AppsProxyOptions) => Effect.Effect<AppsProxy, EmulatorError, Scope.Scope>
  /**
   * Plays Posit Workbench for a session with managed Databricks credentials, for the life of the scope: the
   * `workbench` profile it writes (and refreshes) and its session OAuth integration API.
   *
   * @since 0.3.0
   */
  readonly workbench: (options?: WorkbenchOptions) => Effect.Effect<Workbench, EmulatorError, Scope.Scope>
}

/**
 * @since 0.3.0
 * @category workbench
 */
export interface WorkbenchOptions {
  /** The session's user, whose credentials Workbench manages. Default the emulator's `user`. */
  readonly user?: Principal | undefined
  /** The OAuth integration's name. Default `"databricks"`. */
  readonly integrationName?: string | undefined
  /** `RSTUDIO_VERSION`. Default `"2026.01.0"`, the first with the OAuth integration API. */
  readonly version?: string | undefined
  /** The server's port; 0 (the default) picks a free one. */
  readonly port?: number | undefined
}

/**
 * Posit Workbench as a session sees it:
 *
 * - managed Databricks credentials: a `.databrickscfg` in a temporary `posit-workbench-*` directory with a
 *   `[workbench]` profile (`host`, and `token` an OAuth token of the session's user), named by the session's
 *   `DATABRICKS_CONFIG_FILE` and `DATABRICKS_CONFIG_PROFILE=workbench`; `refreshCredentials` writes a new token,
 *   as Workbench does while the session is active;
 * - the OAuth integration API (`GET /oauth_token`, `GET /oauth_integrations`, authenticated by the session's RPC
 *   cookie in `X-RS-Session-Server-RPC-Cookie`), with one integration for the workspace.
 *
 * @since 0.3.0
 * @category workbench
 */
export interface Workbench {
  /** `RS_SERVER_ADDRESS`: `http://127.0.0.1:PORT`. */
  readonly url: string
  /** The generated config file (`DATABRICKS_CONFIG_FILE`). */
  readonly configFile: string
  /** The session's RPC cookie (`RS_SESSION_RPC_COOKIE`). */
  readonly rpcCookie: Redacted.Redacted<string>
  /** The Databricks integration: its GUID is the `audience` a session asks credentials for. */
  readonly integration: { readonly guid: string; readonly name: string }
  /**
   * The session's environment: `POSIT_PRODUCT=WORKBENCH`, `RS_SERVER_ADDRESS`, `RS_SESSION_RPC_COOKIE` (in the
   * clear), `RSTUDIO_VERSION`, `DATABRICKS_CONFIG_FILE`, `DATABRICKS_CONFIG_PROFILE=workbench`.
   */
  readonly env: Readonly<Record<string, string>>
  /** Writes a fresh token into the profile (the file is replaced through a rename). */
  readonly refreshCredentials: Effect.Effect<void>
  /** Signed out, `/oauth_token` answers `{}` and the integration is not `authenticated`. */
  readonly setSignedIn: (signedIn: boolean) => Effect.Effect<void>
  readonly stats: Effect.Effect<WorkbenchStats>
}

/**
 * @since 0.3.0
 * @category workbench
 */
export interface WorkbenchStats {
  /** `/oauth_token` calls with the right cookie. */
  readonly tokenRequests: number
  /** `/oauth_integrations` calls with the right cookie. */
  readonly integrationRequests: number
  /** Requests refused for a missing or wrong RPC cookie. */
  readonly refusedCookies: number
  /** Times the profile was written. */
  readonly profileWrites: number
}

/**
 * @since 0.3.0
 * @category apps
 */
export interface AppsProxyOptions {
  /** The app's own server, `http://127.0.0.1:PORT`: the proxy forwards every request there. */
  readonly target: string
  /** `DATABRICKS_APP_NAME`. Default `"emulated-app"`. */
  readonly name?: string | undefined
  /**
   * User authorization: the scopes of the viewer's token the proxy forwards in `X-Forwarded-Access-Token`
   * (default `["sql", "iam.current-user.read"]`, written into the token's `scope` claim), or `false` for an app
   * without user authorization (no `X-Forwarded-Access-Token`).
   */
  readonly userAuthorization?: false | { readonly scopes?: ReadonlyArray<string> | undefined } | undefined
  /** The proxy's port; 0 (the default) picks a free one. */
  readonly port?: number | undefined
}

/**
 * The emulator's Databricks Apps proxy: a loopback reverse proxy that logs a workspace user in and forwards each
 * request to the app with the headers Databricks Apps adds (`X-Forwarded-Access-Token` with a fresh token of the
 * user, `X-Forwarded-User`, `-Email`, `-Preferred-Username`, `-Host`, `X-Real-Ip`, `X-Request-Id`), after removing
 * any of them the client sent.
 *
 * Who the user is, in this order: the test header `X-Emulator-Apps-User: <userName>`; `Authorization: Bearer
 * <OAuth token>` of a workspace user, as API clients call an app; the session cookie of a browser login (a `GET`
 * that accepts HTML is redirected through the workspace's authorize endpoint and back). Anything else is a 401.
 * Fault target `"apps_proxy"` (forwarded requests) and `"apps_login"` (the login callback); both count in `stats`.
 *
 * @since 0.3.0
 * @category apps
 */
export interface AppsProxy {
  /** `http://127.0.0.1:PORT`: the app's URL, where users and tests send requests. */
  readonly url: string
  readonly appName: string
  /** The service principal the emulator created for the app. */
  readonly servicePrincipal: {
    readonly clientId: string
    readonly clientSecret: Redacted.Redacted<string>
    readonly principal: Principal
  }
  /**
   * The variables Databricks Apps sets in the app's environment (`DATABRICKS_APP_NAME`, `DATABRICKS_APP_PORT`,
   * `DATABRICKS_APP_URL`, `DATABRICKS_HOST`, `DATABRICKS_WORKSPACE_ID`, `DATABRICKS_CLIENT_ID`,
   * `DATABRICKS_CLIENT_SECRET`), for `ConfigProvider.fromMap` or a child process. The secret is in the clear.
   */
  readonly env: Readonly<Record<string, string>>
  /** `"x-emulator-apps-user"`. */
  readonly testUserHeader: string
  /** The headers that log `user` in for one request. */
  readonly headersFor: (user: Principal) => Readonly<Record<string, string>>
  readonly stats: Effect.Effect<AppsProxyStats>
}

/**
 * @since 0.3.0
 * @category apps
 */
export interface AppsProxyStats {
  /** Requests forwarded to the app (whatever it answered). */
  readonly forwarded: number
  /** Requests refused with 401 (no user, or a credential that is not a user's valid OAuth token). */
  readonly unauthenticated: number
  /** Browser logins completed. */
  readonly logins: number
  /** Client-sent headers the proxy removed because only it may set them (`X-Forwarded-*`, `X-Real-Ip`, ...). */
  readonly spoofedHeadersRemoved: number
  /** Requests answered 502 because the app did not answer. */
  readonly appUnreachable: number
}

/**
 * Federation counters. Token-exchange requests also count in `tokenRequests` under their grant type.
 *
 * @since 0.3.0
 * @category stats
 */
export interface FederationStats {
  /** Exchanges that returned a workspace token. */
  readonly accepted: number
  /**
   * Refused exchanges by the check that refused them: `malformed`, `algorithm`, `issuer`, `signature`,
   * `expired`, `not_yet_valid`, `audience`, `subject`, `unknown_client`.
   */
  readonly rejected: Readonly<Record<string, number>>
  /** ID tokens the GitHub Actions stand-in issued. */
  readonly idTokens: number
}

/**
 * What a test issuer puts in a token it signs. Times are on Effect's `Clock`.
 *
 * @since 0.3.0
 * @category federation
 */
export interface MintOptions {
  /** The `sub` claim. */
  readonly subject?: string | undefined
  /** The `aud` claim: one audience, or several. */
  readonly audience?: string | ReadonlyArray<string> | undefined
  /** Another `iss` than the issuer's own URL (a token that claims the wrong issuer). */
  readonly issuer?: string | undefined
  /** From `iat` to `exp`. Default 5 minutes. */
  readonly lifetime?: Duration.DurationInput | undefined
  /** Moves `iat` (and `nbf`, `exp`) this far into the past: `issuedAgo` beyond `lifetime` mints an expired token. */
  readonly issuedAgo?: Duration.DurationInput | undefined
  /** `nbf` this long after `iat` (a token not valid yet). Default 0. */
  readonly notBefore?: Duration.DurationInput | undefined
  /** More claims, or ones that replace those above. */
  readonly claims?: Readonly<Record<string, unknown>> | undefined
  /**
   * Default: the issuer's own. `"none"` mints an unsigned token; `"HS256"` one signed with HMAC keyed by the
   * issuer's public key (the key-confusion forgery); the other of RS256/ES256 a token its JWKS cannot verify.
   */
  readonly algorithm?: "RS256" | "ES256" | "HS256" | "none" | undefined
  /** Signed with a key of the right kind that is not in the issuer's JWKS, under its `kid`. */
  readonly forged?: boolean | undefined
}

/**
 * A test issuer, as GitHub Actions or a Kubernetes cluster would be one: it serves OIDC discovery at
 * `{url}/.well-known/openid-configuration` and its keys at `{url}/jwks`, on loopback.
 *
 * @since 0.3.0
 * @category federation
 */
export interface FederationIssuer {
  /** The issuer URL: the `iss` of its tokens, and what a policy names. */
  readonly url: string
  readonly algorithm: "RS256" | "ES256"
  /** Its public keys (a JWKS). */
  readonly jwks: Effect.Effect<{ readonly keys: ReadonlyArray<JsonWebKey> }>
  /** Signs a token with the given claims. */
  readonly mint: (options: MintOptions) => Effect.Effect<Redacted.Redacted<string>>
  /** Replaces its signing key: tokens it signed before stop verifying. */
  readonly rotateKey: Effect.Effect<void>
}

/**
 * A federation policy of the workspace's account, as Databricks defines one. With `servicePrincipal` (a client
 * id) it is that service principal's policy and accepts tokens whose subject claim is `subject`, exchanged with
 * `client_id`; without, it is account-wide and maps the subject claim to the user or service principal of that
 * name (`userName`), exchanged with no `client_id`.
 *
 * @since 0.3.0
 * @category federation
 */
export interface FederationPolicy {
  /** The issuer URL it trusts (`FederationIssuer.url`, or another issuer with `jwks`). */
  readonly issuer: string
  /**
   * The `aud` values it accepts. Default: the workspace's token endpoint, `{host}/oidc/v1/token`, the audience
   * the Databricks SDKs request by default (Databricks' own default is the account id, which the emulator has not).
   */
  readonly audiences?: ReadonlyArray<string> | undefined
  /** Default `sub`. */
  readonly subjectClaim?: string | undefined
  /** A service principal's client id: makes this that principal's policy. */
  readonly servicePrincipal?: string | undefined
  /** The one subject a service principal's policy accepts (required with `servicePrincipal`). */
  readonly subject?: string | undefined
  /** The issuer's keys, for an issuer the emulator does not run. */
  readonly jwks?: { readonly keys: ReadonlyArray<JsonWebKey> } | undefined
}

/**
 * Workload identity federation on loopback: the issuers, the policies, and the GitHub Actions stand-in.
 *
 * @since 0.3.0
 * @category federation
 */
export interface Federation {
  /** The workload identity provider's base URL (HTTPS, the workspace host's certificate). */
  readonly url: string
  /** Adds a test issuer (default RS256) at `{url}/issuers/{name}`. */
  readonly addIssuer: (options?: {
    readonly name?: string | undefined
    readonly algorithm?: "RS256" | "ES256" | undefined
  }) => Effect.Effect<FederationIssuer>
  /** Adds a policy; fails for a service principal the workspace does not know, or one without `subject`. */
  readonly addPolicy: (policy: FederationPolicy) => Effect.Effect<void, EmulatorError>
  /** Removes every policy. */
  readonly clearPolicies: Effect.Effect<void>
  /**
   * The GitHub Actions ID-token endpoint: `requestUrl` and `requestToken` are what a job sees in
   * `ACTIONS_ID_TOKEN_REQUEST_URL` and `ACTIONS_ID_TOKEN_REQUEST_TOKEN`. Its tokens come from `issuer` (RS256),
   * with the `audience` asked for and `subject` (default `repo:octo-org/octo-repo:environment:prod`).
   */
  readonly githubActions: {
    readonly requestUrl: string
    readonly requestToken: Redacted.Redacted<string>
    readonly issuer: FederationIssuer
    /** The `sub`, extra claims and lifetime of the tokens it issues from now on. */
    readonly configure: (options: {
      readonly subject?: string | undefined
      readonly claims?: Readonly<Record<string, unknown>> | undefined
      readonly lifetime?: Duration.DurationInput | undefined
    }) => Effect.Effect<void>
  }
}

/**
 * @since 0.1.0
 * @category tags
 */
export const Emulator: Context.Tag<Emulator, Emulator> = Context.GenericTag<Emulator>(
  "@effect-databricks/testing/Emulator"
)

export {
  /**
   * @since 0.1.0
   * @category errors
   */
  EmulatorError,
  /**
   * @since 0.1.0
   * @category errors
   */
  SqlSeedError
} from "./EmulatorError.js"

/**
 * Starts the emulator for the life of the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: Options) => Effect.Effect<Emulator, EmulatorError, Scope.Scope> = internal.make

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<Emulator, EmulatorError> => Layer.scoped(Emulator, make(options))

/**
 * An `HttpClient` that trusts the emulator's certificate (and only it), for
 * tests and the demo.
 *
 * @since 0.1.0
 * @category layers
 */
export const httpClient: Layer.Layer<HttpClient.HttpClient, never, Emulator> = Layer.unwrapEffect(
  Effect.map(
    Emulator,
    (emulator) =>
      NodeHttpClient.layerWithoutAgent.pipe(Layer.provide(NodeHttpClient.makeAgentLayer({ ca: emulator.caCertPem })))
  )
)

/**
 * The `--json` line: what a client in any language needs to connect.
 *
 * @since 0.1.0
 * @category utils
 */
export const connectionInfo = (emulator: Emulator): ConnectionInfo => ({
  host: emulator.host,
  httpPath: emulator.httpPath,
  caCertPath: emulator.caCertPath,
  adminToken: Redacted.value(emulator.adminToken),
  pat: Redacted.value(emulator.pat),
  servicePrincipal: {
    clientId: emulator.servicePrincipal.clientId,
    clientSecret: Redacted.value(emulator.servicePrincipal.clientSecret)
  },
  u2m: { clientId: emulator.u2m.clientId },
  connect: {
    url: emulator.connect.url,
    apiKey: Redacted.value(emulator.connect.apiKey),
    userSessionToken: Redacted.value(emulator.connect.userSessionToken),
    contentSessionToken: Redacted.value(emulator.connect.contentSessionToken)
  }
})

/**
 * What the emulated workspace makes of an Entra ID identity: `"member"` has
 * been added to it; `"contributor"` has not, but holds Contributor (or Owner)
 * on the workspace's Azure resource, so Azure Databricks adds it on first use
 * (a user at once, a service principal when it sends its management token in
 * `X-Databricks-Azure-SP-Management-Token` with the workspace's resource id in
 * `X-Databricks-Azure-Workspace-Resource-Id`); `"none"` is refused with
 * HTTP 403.
 *
 * @since 0.3.0
 * @category azure
 */
export type AzureWorkspaceAccess = "member" | "contributor" | "none"

/**
 * An Entra ID application (service principal) with a client secret.
 *
 * @since 0.3.0
 * @category azure
 */
export interface AzureServicePrincipal {
  readonly tenantId: string
  /** The application (client) id; the workspace knows it by this `userName`. */
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly displayName: string
}

/**
 * How the test `az` is logged in: as a service principal (`az login
 * --service-principal`), as a user (`az login --username`), or not at all.
 *
 * @since 0.3.0
 * @category azure
 */
export type AzureCliLogin =
  | { readonly servicePrincipal: AzureServicePrincipal }
  | {
    readonly user: {
      readonly tenantId: string
      readonly userName: string
      readonly password: Redacted.Redacted<string>
    }
  }
  | "none"

/**
 * A test `az` executable: put `directory` first on the `PATH`, or pass `path`
 * as the CLI path.
 *
 * @since 0.3.0
 * @category azure
 */
export interface AzureCli {
  readonly path: string
  readonly directory: string
  /** The arguments of every run so far, one line per run. */
  readonly calls: Effect.Effect<ReadonlyArray<string>>
}

/**
 * Microsoft Entra ID and Azure's managed-identity endpoint, on loopback.
 *
 * - The **authority** (`authorityHost`, HTTPS with the workspace host's
 *   certificate) serves each tenant's token endpoint,
 *   `/{tenant}/oauth2/v2.0/token` (`scope={resource}/.default`) and the v1
 *   `/{tenant}/oauth2/token` (`resource=`), for client credentials and (with
 *   the Azure CLI's client id) the password grant. It answers errors as Entra
 *   ID does: `{ error, error_description: "AADSTS…", error_codes, … }`.
 *   Fault target `"entra_token"`.
 * - The **managed-identity endpoint** (`managedIdentityEndpoint`, HTTP, as
 *   IMDS is) serves `GET /metadata/identity/oauth2/token` with
 *   `Metadata: true`, `api-version`, `resource` and an optional `client_id`,
 *   for one virtual machine's identities. Fault target `"managed_identity"`.
 * - Resources: the Azure Databricks application
 *   `2ff814a6-3304-4ab8-85cb-cd0e6f879c1d` (tokens the workspace accepts as
 *   the mapped principal: a service principal by client id, a user by user
 *   name), `https://management.core.windows.net/` and
 *   `https://management.azure.com/`.
 *
 * @since 0.3.0
 * @category azure
 */
export interface Azure {
  /** `https://127.0.0.1:PORT`: what `AZURE_AUTHORITY_HOST` names. */
  readonly authorityHost: string
  /** The default tenant. */
  readonly tenantId: string
  readonly subscriptionId: string
  /** The workspace's Azure resource id, `/subscriptions/…/providers/Microsoft.Databricks/workspaces/emulator`. */
  readonly workspaceResourceId: string
  /** An application in the default tenant that is a member of the workspace. */
  readonly servicePrincipal: AzureServicePrincipal
  /** The workspace's default user as an Entra ID user, for a user login of the test `az`. */
  readonly user: { readonly tenantId: string; readonly userName: string; readonly password: Redacted.Redacted<string> }
  /** `http://127.0.0.1:PORT`: the managed-identity endpoint's base, in place of `http://169.254.169.254`. */
  readonly managedIdentityEndpoint: string
  /** The machine's system-assigned identity, a member of the workspace. */
  readonly managedIdentity: { readonly clientId: string }
  /** Another tenant; its id. */
  readonly registerTenant: Effect.Effect<string>
  /** A service principal of a tenant (the default one unless `tenantId`), with a client secret. */
  readonly registerServicePrincipal: (options?: {
    readonly tenantId?: string | undefined
    readonly clientId?: string | undefined
    readonly clientSecret?: Redacted.Redacted<string> | undefined
    readonly displayName?: string | undefined
    /** Default `"member"`. */
    readonly workspace?: AzureWorkspaceAccess | undefined
  }) => Effect.Effect<AzureServicePrincipal>
  /** A user of a tenant, who can sign in with the Azure CLI (a password is generated unless given). */
  readonly registerUser: (options: {
    readonly userName: string
    readonly displayName?: string | undefined
    readonly password?: Redacted.Redacted<string> | undefined
    readonly tenantId?: string | undefined
    /** Default `"member"`. */
    readonly workspace?: AzureWorkspaceAccess | undefined
  }) => Effect.Effect<
    { readonly tenantId: string; readonly userName: string; readonly password: Redacted.Redacted<string> }
  >
  /** A managed identity of the machine: user-assigned (the default) or the system-assigned one. */
  readonly registerManagedIdentity: (options?: {
    readonly assignment?: "user" | "system" | undefined
    readonly tenantId?: string | undefined
    readonly displayName?: string | undefined
    /** Default `"member"`. */
    readonly workspace?: AzureWorkspaceAccess | undefined
  }) => Effect.Effect<{ readonly clientId: string }>
  /** Detaches the system-assigned identity (`systemAssigned: false`) or replaces the user-assigned ones. */
  readonly setManagedIdentities: (options: {
    readonly systemAssigned?: false | undefined
    readonly userAssigned?: ReadonlyArray<string> | undefined
  }) => Effect.Effect<void>
  /** Rotates an application's secret, or marks it expired (`AADSTS7000222`). */
  readonly setServicePrincipalSecret: (
    clientId: string,
    options: { readonly clientSecret?: Redacted.Redacted<string> | undefined; readonly expired?: boolean | undefined }
  ) => Effect.Effect<void>
  /** Changes what the workspace makes of an identity (by client id or user name). */
  readonly setWorkspaceAccess: (clientIdOrUserName: string, access: AzureWorkspaceAccess) => Effect.Effect<void>
  /**
   * Writes a test `az` into a temporary directory (removed with the scope), logged in as `login` (default: the
   * default service principal). It runs with the Node.js that runs the tests and asks this authority for tokens.
   */
  readonly cli: (
    options?: { readonly login?: AzureCliLogin | undefined }
  ) => Effect.Effect<AzureCli, never, Scope.Scope>
}

/**
 * The Databricks metadata service on loopback (HTTP): `GET {url}` with
 * `X-Databricks-Metadata-Version: 1` and `X-Databricks-Host` answers
 * `{ access_token, token_type, expires_on }` with a workspace token of the
 * bound principal; a missing version is a 400 and another host a 404. Each
 * URL's path is a secret, as IDE extensions make it. Fault target
 * `"metadata_service"`.
 *
 * @since 0.3.0
 * @category azure
 */
export interface MetadataService {
  /** Serves tokens of `user` for the workspace host. */
  readonly url: string
  /** Another URL, for another host (default the workspace's) or principal (default `user`). */
  readonly register: (options?: {
    readonly host?: string | undefined
    readonly principal?: Principal | undefined
  }) => Effect.Effect<string>
}
