// Type-checked by `pnpm check`. One SqlClient per Posit Connect viewer: each viewer's queries run on sessions
// opened with their own token.
import { ConnectViewer, U2MPkce } from "@effect-databricks/auth"
import { SqlClient } from "@effect-databricks/sql"
import type { Headers } from "@effect/platform"
import { Effect, Layer } from "effect"

export const Viewers = SqlClient.layerViewers({
  host: "https://adb-1234567890.12.azuredatabricks.net",
  httpPath: "/sql/1.0/warehouses/abc123",
  idleTimeToLive: "5 minutes", // a viewer's client closes after 5 idle minutes
  maxViewers: 100 // beyond that, a RateLimitError asks to retry shortly
}).pipe(Layer.provide(ConnectViewer.layerViewers({ local: U2MPkce.layerConfig() })))

/** In a request handler: the rows this viewer may see. */
export const ordersFor = (headers: Headers.Headers) =>
  Effect.flatMap(SqlClient.Viewers, (viewers) =>
    Effect.scoped(
      Effect.flatMap(
        viewers.forViewer(ConnectViewer.userSessionToken(headers)),
        (sql) => sql.query("SELECT id, amount FROM orders ORDER BY id LIMIT 100")
      )
    ))
