// Type-checked by `pnpm check`. The plain @databricks/sql driver against the emulator's warehouse.
import { DBSQLClient } from "@databricks/sql"
import type { Emulator } from "@effect-databricks/testing"
import { Redacted } from "effect"

export const firstRows = async (emulator: Emulator.Emulator) => {
  // Always pass a logger: the driver's default one can exit the process.
  const logger = { log: (level: string, message: string) => console.debug(level, message) }
  const client = new DBSQLClient({ logger: logger as never })
  const { hostname, port } = new URL(emulator.host)
  await client.connect({
    host: hostname,
    port: Number(port),
    path: emulator.httpPath,
    token: Redacted.value(emulator.pat),
    customCaCert: Buffer.from(emulator.caCertPem)
  } as never)
  const session = await client.openSession()
  const operation = await session.executeStatement("SELECT * FROM range(3)")
  const rows = await operation.fetchAll()
  await operation.close()
  await session.close()
  await client.close()
  return rows
}
