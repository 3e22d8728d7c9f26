// Type-checked by `pnpm check`. One SqlClient per viewer, on Posit Connect, on Databricks Apps or locally: each
// viewer's queries run on sessions opened with their own token.
import { U2MPkce, Viewer, ViewerMiddleware } from "@effect-databricks/auth"
import { SqlClient } from "@effect-databricks/sql"
import { HttpRouter, HttpServerResponse } from "@effect/platform"
import { Effect, Layer } from "effect"

/** The viewers' tokens (one cache) and a client per viewer; off both platforms, you, through the browser. */
export const Viewers = SqlClient.layerViewers({
  host: "https://adb-1234567890.12.azuredatabricks.net",
  httpPath: "/sql/1.0/warehouses/abc123",
  idleTimeToLive: "5 minutes", // a viewer's client closes after 5 idle minutes
  maxViewers: 100 // beyond that, a RateLimitError asks to retry shortly
}).pipe(Layer.provideMerge(Viewer.layer({ local: U2MPkce.layerConfig() })))

/** A route: the rows this viewer may see. Without the platform's header, the middleware answers 401. */
export const orders = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/orders",
    SqlClient.asViewer(
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const rows = yield* sql.query("SELECT id, amount FROM orders ORDER BY id LIMIT 100")
        return HttpServerResponse.text(rows.map((row) => `${row.id}: ${row.amount}`).join("\n"))
      })
    )
  ),
  HttpRouter.use(ViewerMiddleware.middleware)
)
