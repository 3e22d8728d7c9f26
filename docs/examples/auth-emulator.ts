// Type-checked by `pnpm check`. Any credential layer, tested against the emulator: point it at `emulator.host` and
// give it `Emulator.httpClient`, which trusts the emulator's certificate.
import { LocalM2M, WorkspaceClient } from "@effect-databricks/auth"
import { Emulator } from "@effect-databricks/testing"
import { Effect, Layer } from "effect"

export const Test = Layer.unwrapEffect(
  Effect.map(Emulator.Emulator, (emulator) =>
    WorkspaceClient.layer({ host: emulator.host }).pipe(
      Layer.provideMerge(LocalM2M.layer({
        host: emulator.host,
        clientId: emulator.servicePrincipal.clientId,
        clientSecret: emulator.servicePrincipal.clientSecret
      }))
    ))
).pipe(Layer.provide(Emulator.httpClient), Layer.provideMerge(Emulator.layer()))

// One token request, however many calls: the emulator's stats say so.
export const program = Effect.gen(function*() {
  for (let i = 0; i < 10; i++) yield* WorkspaceClient.currentUser
  const emulator = yield* Emulator.Emulator
  return (yield* emulator.stats).tokenRequests.client_credentials
}).pipe(Effect.provide(Test))
