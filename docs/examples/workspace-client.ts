// Type-checked by `pnpm check`. Any REST endpoint through the authenticated client, with tagged errors.
import { Pat, WorkspaceClient } from "@effect-databricks/auth"
import { NodeHttpClient } from "@effect/platform-node"
import { Console, Effect, Layer, Schema } from "effect"

const Warehouses = Schema.Struct({
  warehouses: Schema.optionalWith(
    Schema.Array(Schema.Struct({ id: Schema.String, name: Schema.String, state: Schema.String })),
    {
      default: () => []
    }
  )
})

export const listWarehouses = Effect.gen(function*() {
  const client = yield* WorkspaceClient.WorkspaceClient
  const response = yield* client.http.get("/api/2.0/sql/warehouses")
  const body = yield* Effect.flatMap(response.json, Schema.decodeUnknown(Warehouses))
  for (const warehouse of body.warehouses) yield* Console.log(`${warehouse.name} (${warehouse.id}): ${warehouse.state}`)
}).pipe(
  Effect.catchTags({
    PermissionError: (error) => Console.error(`not allowed: ${error.message}`),
    ApiError: (error) => Console.error(`HTTP ${error.status} ${error.errorCode ?? ""}: ${error.message}`)
  }),
  Effect.provide(
    WorkspaceClient.layer().pipe(Layer.provideMerge(Pat.layerConfig()), Layer.provide(NodeHttpClient.layerUndici))
  )
)
