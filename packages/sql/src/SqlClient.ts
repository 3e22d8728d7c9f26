/**
 * Run SQL on a Databricks SQL warehouse, through the official
 * `@databricks/sql` driver, with a `TokenSource` for credentials.
 *
 * - **Credentials:** the driver's `authenticate()` runs `TokenSource.token` on
 *   every RPC; a 403 for an expired token invalidates it and retries once.
 * - **Retries:** the driver's own retry is off; `RetryPolicy` alone decides.
 *   Status polls, result metadata and cancels are sent again by themselves
 *   (after a transient failure or no answer within `timeouts.rpc`);
 *   a FetchResults never is (see docs/sql.md, "When an answer is lost").
 * - **Input:** options are checked when the layer is built
 *   (`ConfigurationError` naming the setting), arguments when a method runs
 *   (`ParameterError` naming it): no defect, nothing malformed sent.
 * - **Secrets:** text from the server or the driver reaches an error or a
 *   log line only through `Redaction.redact`, with the tokens handed out.
 * - **Sessions:** pooled (reused, so a small query costs one RPC thanks to
 *   direct results), thrown away when the server forgets them, closed with the
 *   layer. A client belongs to one identity: its `TokenSource`'s. `reserve`
 *   pins one session for a scope, for `SET`, `USE` and temporary views.
 * - **Deadlines:** every driver call has `timeouts.rpc` (60 s; the driver can
 *   wait forever on an empty HTTP 200) and every query `timeouts.query`
 *   (15 minutes). Interrupting a query sends CancelOperation, then
 *   CloseOperation.
 * - **Values:** BIGINT is a `bigint`, DECIMAL an exact string, DATE
 *   `YYYY-MM-DD`, TIMESTAMP a JS `Date` (UTC, millisecond precision).
 * - **CloudFetch:** a large result arrives as files downloaded from cloud
 *   storage, `cloudFetch.concurrentDownloads` (2) at a time per statement, each
 *   fetch (downloads included) under `timeouts.rpc`; with
 *   `cloudFetch.enabled: false`, inline and LZ4-compressed. A link that expired is a
 *   `ResultExpiredError`: `query` runs an idempotent statement once more; a
 *   `stream` fails, saying how many rows it delivered.
 * - **Logs:** the driver logs through Effect's `Logger` (its default logger
 *   would exit the process on an uncaught exception); telemetry is off.
 *
 * Where the parts live: the options' checks in `internal/clientOptions.ts`,
 * the driver calls and their deadlines in `internal/connection.ts`, the
 * session pool in `internal/sessionPool.ts`, statements and streams in
 * `internal/statement.ts`, assembled by `internal/client.ts`; per-viewer
 * clients (Posit Connect, Databricks Apps, custom servers) in `internal/viewers.ts`; every retry decision in
 * `RetryPolicy`, and the errors in `SqlError`.
 *
 * @since 0.1.0
 */
import * as AuthConfig from "@effect-databricks/auth/AuthConfig"
import type { ConfigurationError } from "@effect-databricks/auth/DatabricksError"
import { type AuthenticationError, type RateLimitError } from "@effect-databricks/auth/DatabricksError"
import * as TokenSource from "@effect-databricks/auth/TokenSource"
import * as Viewer from "@effect-databricks/auth/Viewer"
import * as WorkspaceHost from "@effect-databricks/auth/WorkspaceHost"
import * as Reactivity from "@effect/experimental/Reactivity"
import * as EffectSqlClient from "@effect/sql/SqlClient"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import * as internal from "./internal/client.js"
import * as ClientOptions from "./internal/clientOptions.js"
import * as EffectSql from "./internal/effectSql.js"
import * as internalViewers from "./internal/viewers.js"
import type * as RetryPolicy from "./RetryPolicy.js"
import type { ResultDecodeError, SqlClientError } from "./SqlError.js"
import type * as SqlParam from "./SqlParam.js"

export type {
  /**
   * Everything a SqlClient call can fail with (defined in `SqlError`).
   *
   * @since 0.1.0
   * @category errors
   */
  SqlClientError
} from "./SqlError.js"

/**
 * A row: column name → value.
 *
 * @since 0.1.0
 * @category models
 */
export type Row = Readonly<Record<string, unknown>>

/**
 * @since 0.1.0
 * @category models
 */
export interface ExecuteResult {
  /** The rows the server answered with (for DML, the counts it reports). */
  readonly rows: ReadonlyArray<Row>
  /** `num_affected_rows`, when the server reported it. */
  readonly affectedRows: bigint | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface SqlClient {
  /** All rows. Idempotent: retried on transient failures. */
  readonly query: (sql: string, params?: SqlParam.Params) => Effect.Effect<ReadonlyArray<Row>, SqlClientError>
  /** All rows, decoded with a Schema; a failure names the row and the column. */
  readonly querySchema: <A, I, R>(
    schema: Schema.Schema<A, I, R>
  ) => (sql: string, params?: SqlParam.Params) => Effect.Effect<ReadonlyArray<A>, SqlClientError | ResultDecodeError, R>
  /** Rows as they are fetched, `chunkSize` (10 000) at a time; leaving early closes the statement. */
  readonly stream: (
    sql: string,
    params?: SqlParam.Params,
    options?: { readonly chunkSize?: number | undefined }
  ) => Stream.Stream<Row, SqlClientError>
  /** A statement for its effect. Not idempotent unless said so: a lost answer is never sent twice. */
  readonly execute: (
    sql: string,
    params?: SqlParam.Params,
    options?: { readonly idempotent?: boolean | undefined }
  ) => Effect.Effect<ExecuteResult, SqlClientError>
  /**
   * A client pinned to one pooled session for the scope, so `SET`, `USE` and temporary views made by one of
   * its calls hold for the next. Its calls take turns on that session, one at a time (a `stream` holds its
   * turn until it ends: do not call the same reserved client while reading its stream). When the scope
   * closes the session is closed, never returned to the pool, so its settings never reach another caller.
   * A retry never moves to another session: a failure that loses the session (it expired on the warehouse,
   * or a call on it got no answer) fails the call, and every later one, saying so. On a reserved client it
   * gives that same client. The session counts against `pool.max` for the scope.
   *
   * @since 0.3.0
   */
  readonly reserve: Effect.Effect<SqlClient, SqlClientError, Scope.Scope>
}

/**
 * @since 0.1.0
 * @category tags
 */
export const SqlClient: Context.Tag<SqlClient, SqlClient> = Context.GenericTag<SqlClient>(
  "@effect-databricks/sql/SqlClient"
)

/**
 * @since 0.1.0
 * @category options
 */
export interface Options {
  /** The workspace URL. */
  readonly host: string
  /** The warehouse's HTTP path, `/sql/1.0/warehouses/<id>`. */
  readonly httpPath: string
  /** The session's initial catalog and schema. */
  readonly catalog?: string | undefined
  readonly schema?: string | undefined
  /** Session configuration (for example `{ STATEMENT_TIMEOUT: "3600" }`). */
  readonly sessionConfig?: Readonly<Record<string, string>> | undefined
  /** `<ISV>_<Product>/<Version>`, appended to the user agent after this library's name. */
  readonly userAgentEntry?: string | undefined
  /** A CA certificate (PEM) to trust in addition to the system's, for private endpoints and the emulator. */
  readonly caCert?: string | Uint8Array | undefined
  readonly pool?: {
    /** Sessions open at most. Default 8. */
    readonly max?: number | undefined
    /** A session unused this long is closed. Default 10 minutes. */
    readonly idleTimeToLive?: Duration.DurationInput | undefined
  } | undefined
  /** What is retried, when and how often. Default `RetryPolicy.defaults`. */
  readonly retry?: RetryPolicy.Options | undefined
  readonly cloudFetch?: {
    /**
     * Let the warehouse answer a large result with links to files in cloud storage (CloudFetch). Default true.
     * Turn it off where the client cannot reach the workspace's storage (a private network that allows only
     * the workspace's host): every result then comes inline, LZ4-compressed (the driver asks for LZ4 only
     * when CloudFetch is off).
     */
    readonly enabled?: boolean | undefined
    /**
     * Result files downloaded at once, per statement being read. Default 2 (the driver's own default is 10).
     * A large result comes as links to files in cloud storage, up to about 20 MB each, and the driver holds
     * each file it downloads in memory until its rows are read: memory grows with this number times the file
     * size, for every stream open at once. Two keep one file downloading while the other is read.
     */
    readonly concurrentDownloads?: number | undefined
  } | undefined
  /** Let the driver send its usage telemetry to Databricks. Default false. */
  readonly telemetry?: boolean | undefined
  readonly timeouts?: {
    /** Each driver call. Default 60 seconds. */
    readonly rpc?: Duration.DurationInput | undefined
    /** A whole query, retries included. Default 15 minutes. */
    readonly query?: Duration.DurationInput | undefined
  } | undefined
}

/**
 * A client for the scope: its sessions and the driver are closed when the scope closes. The options are
 * checked first (`ConfigurationError` naming the setting).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (
  options: Options
) => Effect.Effect<SqlClient, ConfigurationError, TokenSource.TokenSource | Scope.Scope> = internal.make

/**
 * One client, as two services: this `SqlClient` and `@effect/sql`'s (the `sql` template, `SqlSchema`,
 * `SqlResolver`, `Model`), which runs every statement through this one's methods.
 */
const layerFrom = (
  options: Effect.Effect<Options, ConfigurationError>
): Layer.Layer<SqlClient | EffectSqlClient.SqlClient, ConfigurationError, TokenSource.TokenSource> =>
  Layer.scopedContext(
    Effect.gen(function*() {
      const checked = yield* options
      const client = yield* make(checked)
      // Checked by make: parsed again for the spans' server.address.
      const host = yield* WorkspaceHost.make(checked.host, { setting: "host" })
      const sql = yield* EffectSql.make(client, {
        hostname: host.hostname,
        port: host.port,
        catalog: checked.catalog,
        schema: checked.schema
      })
      return Context.make(SqlClient, client).pipe(Context.add(EffectSqlClient.SqlClient, sql))
    })
  ).pipe(Layer.provide(Reactivity.layer))

/**
 * This `SqlClient`, and `@effect/sql`'s `SqlClient` on top of it (see docs/sql.md, "@effect/sql"): reads
 * (`SELECT`, `WITH … SELECT`, `SHOW`, `DESCRIBE`, `EXPLAIN`, `VALUES`) run as `query`, anything else as
 * `execute`; its errors are `@effect/sql`'s `SqlError` with one of ours as the `cause`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<SqlClient | EffectSqlClient.SqlClient, ConfigurationError, TokenSource.TokenSource> =>
  layerFrom(Effect.succeed(options))

/**
 * Takes the host and the warehouse from the same settings as the credential: the `AuthConfig` service when
 * `AuthConfig.layer` provides the `TokenSource` (so its options and profile apply), else
 * `AuthConfig.resolveWorkspace()` (explicit options are none here: the environment, then a `~/.databrickscfg`
 * profile). The host is `DATABRICKS_HOST` or the profile's `host`; the warehouse is `DATABRICKS_HTTP_PATH` /
 * `http_path`, or `DATABRICKS_WAREHOUSE_ID` / `warehouse_id` as `/sql/1.0/warehouses/<id>`. The other options
 * may be passed directly. Provides `@effect/sql`'s `SqlClient` too, as `layer` does.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options?: Omit<Options, "host" | "httpPath">
): Layer.Layer<SqlClient | EffectSqlClient.SqlClient, ConfigurationError, TokenSource.TokenSource> =>
  layerFrom(
    Effect.gen(function*() {
      const resolved = yield* Effect.serviceOption(AuthConfig.AuthConfig)
      const workspace = resolved._tag === "Some" ? resolved.value.workspace : yield* AuthConfig.resolveWorkspace()
      return { ...options, ...(yield* ClientOptions.fromWorkspace(workspace)) }
    })
  )

/**
 * One `SqlClient` per viewer, for apps that query Databricks as the person
 * viewing them, on Posit Connect, on Databricks Apps or in a custom server
 * alike (see the `Viewer` module of `@effect-databricks/auth`).
 *
 * @since 0.1.0
 * @category viewers
 */
export interface Viewers {
  /**
   * The viewer's client (their own sessions, their own token), held for the scope. It takes a `Viewer.Viewer`
   * (from `ViewerMiddleware` or `Viewer.fromHeaders`), or a Posit Connect user-session token as before.
   */
  readonly forViewer: (
    viewer: Viewer.Viewer | Option.Option<Redacted.Redacted<string>> | Redacted.Redacted<string> | undefined
  ) => Effect.Effect<SqlClient, AuthenticationError | ConfigurationError | RateLimitError, Scope.Scope>
  /**
   * `@effect/sql`'s client for the viewer, over the same per-viewer client as `forViewer` (the same sessions).
   *
   * @since 0.3.0
   */
  readonly effectSqlFor: (
    viewer: Viewer.Viewer | Option.Option<Redacted.Redacted<string>> | Redacted.Redacted<string> | undefined
  ) => Effect.Effect<EffectSqlClient.SqlClient, AuthenticationError | ConfigurationError | RateLimitError, Scope.Scope>
  /**
   * Clients held at most.
   *
   * @since 0.3.0
   */
  readonly maxViewers: number
  /**
   * A viewer's client unused this long is closed.
   *
   * @since 0.3.0
   */
  readonly idleTimeToLive: Duration.Duration
}

/**
 * @since 0.1.0
 * @category viewers
 */
export const Viewers: Context.Tag<Viewers, Viewers> = internalViewers.Viewers

/**
 * @since 0.3.0
 * @category viewers
 */
export interface ViewersOptions {
  /**
   * Viewers' clients held at once, idle ones included; one more is a `RateLimitError`. Default: the
   * `Viewer.Viewers` cache's `maxViewers` (1000).
   */
  readonly maxViewers?: number | undefined
  /** A viewer's client unused this long is closed. Default: the `Viewer.Viewers` cache's (5 minutes). */
  readonly idleTimeToLive?: Duration.DurationInput | undefined
}

/**
 * The per-viewer pattern: a client per viewer (per `Viewer.ViewerKey`), built
 * on the viewer's token source from the one `Viewer.Viewers` cache
 * (`Viewer.layer`, or `ConnectViewer.layerViewers`), kept while in use and for
 * `idleTimeToLive` after, at most `maxViewers` at once. A session is only ever
 * used with the identity that opened it: a viewer's client is never handed to
 * another viewer. Each client comes with `@effect/sql`'s over it
 * (`effectSqlFor`, `asViewer`). The options are checked when the layer is built
 * (`ConfigurationError`).
 *
 * @since 0.1.0
 * @category viewers
 */
export const layerViewers: (
  options: Options & ViewersOptions
) => Layer.Layer<Viewers, ConfigurationError, Viewer.Viewers> = internalViewers.layer

/**
 * Runs `effect` as the request's viewer (`Viewer.Viewer`, provided by
 * `ViewerMiddleware`): provides that viewer's `SqlClient`, `@effect/sql`'s
 * `SqlClient` over it, and their `TokenSource`, held while it runs.
 *
 * @since 0.3.0
 * @category viewers
 */
export const asViewer = <A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<
  A,
  E | AuthenticationError | ConfigurationError | RateLimitError,
  Exclude<R, SqlClient | EffectSqlClient.SqlClient | TokenSource.TokenSource> | Viewers | Viewer.Viewer
> =>
  Effect.gen(function*() {
    const viewer = yield* Viewer.Viewer
    const viewers = yield* Viewers
    return yield* Effect.scopedWith((scope) =>
      Effect.gen(function*() {
        const client = yield* Scope.extend(viewers.forViewer(viewer), scope)
        const sql = yield* Scope.extend(viewers.effectSqlFor(viewer), scope)
        return yield* effect.pipe(
          Effect.provideService(SqlClient, client),
          Effect.provideService(EffectSqlClient.SqlClient, sql),
          Effect.provideService(TokenSource.TokenSource, viewer.tokenSource)
        )
      })
    )
  }) as Effect.Effect<
    A,
    E | AuthenticationError | ConfigurationError | RateLimitError,
    Exclude<R, SqlClient | EffectSqlClient.SqlClient | TokenSource.TokenSource> | Viewers | Viewer.Viewer
  >

/**
 * `@effect/sql`'s `SqlClient` over one of ours, for a client you built
 * yourself (`make`, a reserved client, a viewer's): the `sql` template,
 * `SqlSchema`, `SqlResolver` and `Model` then run through it, as with
 * `layer`. `host`, `catalog` and `schema` name the target in its spans. It
 * uses the `Reactivity` service if one is provided, else its own.
 *
 * @since 0.3.0
 * @category constructors
 */
export const toEffectSql: (
  client: SqlClient,
  options: Pick<Options, "host" | "catalog" | "schema">
) => Effect.Effect<EffectSqlClient.SqlClient, ConfigurationError> = internalViewers.toEffectSql

/**
 * The current `SqlClient`'s `query`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const query = (
  sql: string,
  params?: SqlParam.Params
): Effect.Effect<ReadonlyArray<Row>, SqlClientError, SqlClient> =>
  Effect.flatMap(SqlClient, (client) => client.query(sql, params))
