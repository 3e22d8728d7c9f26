// A web app that acts for the person viewing it: "Hello, <viewer>" and the viewer's own rows of a table.
//
// The same file runs, unchanged, on Posit Connect (the viewer's Posit-Connect-User-Session-Token, exchanged for
// their Databricks token), on Databricks Apps (the viewer's token in X-Forwarded-Access-Token, with user
// authorization on) and locally (your own credential, from AuthConfig; `local.ts` runs it against the emulator).
// Every query runs on a SQL session opened with the viewer's token, so `current_user()` is the viewer.
// Only erasable TypeScript and package imports: Node runs it with its type stripping, or through tsx.
import { AuthConfig, DatabricksApps, Viewer, ViewerMiddleware, WorkspaceClient } from "@effect-databricks/auth"
import { ConfigurationError } from "@effect-databricks/auth/DatabricksError"
import { SqlClient } from "@effect-databricks/sql"
import { HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import type { HttpApp, HttpClient } from "@effect/platform"
import { NodeContext, NodeHttpClient, NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Config, Effect, Layer, Option } from "effect"
import * as Http from "node:http"

// #region page
/** Text for HTML: every character that could end an element or an attribute is escaped. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/**
 * A whole page, no script. Each viewer's page is theirs alone: never stored by a cache (`no-store`), nor shown in
 * a frame, nor allowed to load anything.
 */
const page = (title: string, body: string, status = 200) =>
  HttpServerResponse.text(
    `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body>
${body}
</body></html>
`,
    {
      status,
      contentType: "text/html; charset=utf-8",
      headers: {
        "cache-control": "no-store",
        "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer"
      }
    }
  )

/** An error page: what went wrong and what to do, in words meant for the viewer. */
const errorPage = (status: number, title: string, lines: ReadonlyArray<string>) =>
  page(title, `<h1>${escapeHtml(title)}</h1>\n${lines.map((line) => `<p>${escapeHtml(line)}</p>`).join("\n")}`, status)
// #endregion

// #region query
/** The table, `catalog.schema.table`, checked so it can be written into the SQL as an identifier. */
const tableName = Config.string("VIEWER_APP_TABLE").pipe(
  Config.withDefault("main.default.orders"),
  Config.validate({
    message: "VIEWER_APP_TABLE must be a table name like main.default.orders (letters, digits, _ and dots)",
    validation: (name) => /^[A-Za-z_]\w*(\.[A-Za-z_]\w*){0,2}$/.test(name)
  }),
  Effect.mapError((error) => new ConfigurationError({ setting: "VIEWER_APP_TABLE", message: String(error) }))
)

/**
 * The page of the request's viewer. `SqlClient.asViewer` runs it with the viewer's own `SqlClient` (sessions
 * opened with their token) and `TokenSource` (for the REST call): the viewer, never the app, reads the rows.
 */
const home = Effect.gen(function*() {
  const name = yield* tableName
  const me = yield* Effect.flatMap(WorkspaceClient.make(), (client) => client.currentUser)
  const sql = yield* SqlClient.SqlClient
  // No filter on the viewer in the app's own code would be trusted: the warehouse's current_user() is the viewer
  // (a Unity Catalog row filter on `owner` does the same for every client).
  const rows = yield* sql.query(
    `SELECT id, item, amount FROM ${name} WHERE owner = current_user() ORDER BY id`
  )
  const list = rows.length === 0
    ? `<p id="empty">You have no orders.</p>`
    : `<table id="orders">
<thead><tr><th>Order</th><th>Item</th><th>Amount</th></tr></thead>
<tbody>
${
      rows.map((row) =>
        `<tr><td>${escapeHtml(String(row.id))}</td><td>${escapeHtml(String(row.item))}</td><td>${
          escapeHtml(String(row.amount))
        }</td></tr>`
      ).join("\n")
    }
</tbody>
</table>`
  return yield* page(
    "Your orders",
    `<h1 id="hello">Hello, ${escapeHtml(me.displayName || me.userName)}</h1>
<p id="user">Signed in to Databricks as <span id="user-name">${escapeHtml(me.userName)}</span>.</p>
${list}`
  )
}).pipe(SqlClient.asViewer)
// #endregion

// #region app
/** Every failure as a page that says what to do; the library's errors carry no secret. */
const friendly = <E, R>(app: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>) =>
  app.pipe(
    Effect.catchAll((error) => {
      const tagged = error as { readonly _tag?: string; readonly message?: string; readonly hint?: string }
      const said = [tagged.message ?? "", tagged.hint ?? ""].filter((line) => line !== "")
      switch (tagged._tag) {
        case "RouteNotFound":
          return errorPage(404, "Not found", ["There is nothing here. Go back to the start page."])
        case "AuthenticationError":
          return errorPage(401, "Databricks did not accept your sign-in", [...said, "Reload the page to try again."])
        case "PermissionError":
          return errorPage(403, "You may not see this data", said)
        case "RateLimitError":
          return errorPage(503, "Too busy right now", ["Please try again in a moment."])
        case "ConfigurationError":
          return errorPage(500, "The app is not set up yet", said)
        default:
          return Effect.zipRight(
            Effect.logError("request failed", error),
            errorPage(502, "Databricks could not answer", ["Please try again in a moment."])
          )
      }
    })
  )

/**
 * `ViewerMiddleware` answers a request without the platform's header with a plain-text 401 (the reason and what
 * to do); the app shows it as its own page.
 */
const htmlErrors = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
  Effect.flatMap(app, (response) => {
    const body = response.body
    if (response.status < 400 || body._tag !== "Uint8Array" || !body.contentType.startsWith("text/plain")) {
      return Effect.succeed(response)
    }
    const lines = new TextDecoder().decode(body.body).split("\n").filter((line) => line.trim() !== "")
    return errorPage(response.status, "Who are you?", lines)
  })

/** The routes: each viewer's page runs as that viewer (ViewerMiddleware gives the request its `Viewer`). */
export const app = HttpRouter.empty.pipe(
  HttpRouter.get("/", friendly(ViewerMiddleware.middleware(home))),
  friendly,
  htmlErrors
)
// #endregion

// #region layers
/** Where to listen: Databricks Apps' port; else `PORT` (Posit Connect); else 127.0.0.1:8000. */
const address = Effect.gen(function*() {
  if (yield* DatabricksApps.isDatabricksApps) return yield* DatabricksApps.serverAddress()
  const port = yield* Config.option(Config.integer("PORT")).pipe(
    Effect.mapError(() => new ConfigurationError({ setting: "PORT", message: "PORT must be a port number" }))
  )
  return Option.isSome(port) ? { host: "127.0.0.1", port: port.value } : yield* DatabricksApps.serverAddress()
})

/** The workspace and its SQL warehouse: DATABRICKS_HOST and DATABRICKS_WAREHOUSE_ID (or _HTTP_PATH, or a profile). */
const sqlViewers = (options: { readonly caCert?: string | undefined }) =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const workspace = yield* AuthConfig.resolveWorkspace()
    if (Option.isNone(workspace.host) || Option.isNone(workspace.httpPath)) {
      return yield* new ConfigurationError({
        setting: Option.isNone(workspace.host) ? "DATABRICKS_HOST" : "DATABRICKS_WAREHOUSE_ID",
        message: "The app needs a workspace and a SQL warehouse",
        hint: "Set DATABRICKS_HOST and DATABRICKS_WAREHOUSE_ID (on Databricks Apps: a sql-warehouse resource)"
      })
    }
    return SqlClient.layerViewers({
      host: workspace.host.value.value,
      httpPath: workspace.httpPath.value.value,
      caCert: options.caCert,
      userAgentEntry: "Example_ViewerApp/0.1.0"
    })
  }))

/**
 * The server: one `Viewer.Viewers` cache (Connect, Databricks Apps or the local credential, detected at start),
 * a SQL client per viewer on it, and the routes. `caCert` is for a test workspace with its own certificate.
 */
export const server = (options: { readonly caCert?: string | undefined } = {}) =>
  HttpServer.serve(app).pipe(
    HttpServer.withLogAddress,
    Layer.provide(sqlViewers(options)),
    Layer.provide(Viewer.layer({ local: AuthConfig.layer().pipe(Layer.provide(NodeContext.layer)) })),
    Layer.provide(Layer.unwrapEffect(
      Effect.map(address, (address) => NodeHttpServer.layer(() => Http.createServer(), address))
    ))
  ) satisfies Layer.Layer<never, unknown, HttpClient.HttpClient>
// #endregion

if (process.argv[1]?.endsWith("server.ts") || process.argv[1]?.endsWith("server.js")) {
  Layer.launch(server().pipe(Layer.provide(NodeHttpClient.layerUndici))).pipe(NodeRuntime.runMain)
}
