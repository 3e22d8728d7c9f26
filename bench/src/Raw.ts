/**
 * The raw `@databricks/sql` driver, used the ways people use it: one session reused, or the
 * seed's connect-per-query (connect → openSession → execute → fetchAll → close → close session).
 * Its own retries stay at their defaults; only its logger is silenced (the default one can exit
 * the process).
 */
import { DBSQLClient } from "@databricks/sql"
import type { Emulator } from "@effect-databricks/testing"
import * as Fs from "node:fs"
import * as Https from "node:https"

const quiet = { log: () => undefined }

type Session = Awaited<ReturnType<DBSQLClient["openSession"]>>

/** Connects and opens a session with `token`; `close` ends both. */
export const connect = async (info: Emulator.ConnectionInfo, token: string = info.pat) => {
  const url = new URL(info.host)
  const client = new DBSQLClient({ logger: quiet } as never)
  await client.connect({
    host: url.hostname,
    port: Number(url.port),
    path: info.httpPath,
    token,
    customCaCert: Fs.readFileSync(info.caCertPath),
    telemetryEnabled: false,
    preserveBigNumericPrecision: true
  } as never)
  const session = await client.openSession()
  return {
    session,
    close: async () => {
      await session.close()
      await client.close()
    }
  }
}

/** One statement on an open session, all rows, operation closed: the driver's usual call. */
export const run = async (session: Session, sql: string) => {
  const operation = await session.executeStatement(sql)
  try {
    return await operation.fetchAll()
  } finally {
    await operation.close()
  }
}

/** The seed's pattern: a new connection and session for every query. */
export const connectPerQuery = async (info: Emulator.ConnectionInfo, sql: string, token?: string) => {
  const connection = await connect(info, token)
  try {
    return await run(connection.session, sql)
  } finally {
    await connection.close()
  }
}

/** The seed's token pattern: one OAuth `client_credentials` grant per request, no cache. */
export const grant = (info: Emulator.ConnectionInfo): Promise<string> =>
  new Promise((resolve, reject) => {
    const body = new URLSearchParams({ grant_type: "client_credentials", scope: "all-apis" }).toString()
    const basic = Buffer.from(`${info.servicePrincipal.clientId}:${info.servicePrincipal.clientSecret}`)
    const request = Https.request(`${info.host}/oidc/v1/token`, {
      method: "POST",
      ca: Fs.readFileSync(info.caCertPath),
      headers: {
        authorization: `Basic ${basic.toString("base64")}`,
        "content-type": "application/x-www-form-urlencoded",
        "content-length": Buffer.byteLength(body)
      }
    }, (response) => {
      let text = ""
      response.setEncoding("utf8")
      response.on("data", (chunk: string) => (text += chunk))
      response.on("end", () => {
        if (response.statusCode !== 200) return reject(new Error(`token endpoint answered ${response.statusCode}`))
        resolve((JSON.parse(text) as { access_token: string }).access_token)
      })
    })
    request.on("error", reject)
    request.end(body)
  })
