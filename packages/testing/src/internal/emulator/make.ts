import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Fs from "node:fs/promises"
import * as Http from "node:http"
import * as Https from "node:https"
import type * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import type { ConnectIntegration, Emulator, Options, Principal } from "../../Emulator.js"
import { EmulatorError } from "../../EmulatorError.js"
import * as LoopbackCertificate from "../../LoopbackCertificate.js"
import * as CloudFetch from "../warehouse/cloudFetch.js"
import * as Warehouse from "../warehouse/warehouse.js"
import * as AppsProxy from "./appsProxy.js"
import * as AzureServers from "./azure.js"
import * as Connect from "./connect.js"
import type { Fault } from "./fault.js"
import { Faults } from "./faults.js"
import * as WorkloadIdentity from "./federationApi.js"
import * as Random from "./random.js"
import { Registry } from "./registry.js"
import { Stats } from "./stats.js"
import * as Workbench from "./workbench.js"
import * as Workspace from "./workspace.js"

/**
 * A small, deterministic `samples.nyctaxi.trips`, with the columns of Databricks' sample table (the catalog
 * `samples` itself is always there, as in every workspace).
 */
const sampleTrips = `
  CREATE SCHEMA IF NOT EXISTS samples.nyctaxi;
  CREATE TABLE samples.nyctaxi.trips AS
  SELECT
    TIMESTAMP '2016-02-01 00:00:00' + INTERVAL (i * 7) MINUTE AS tpep_pickup_datetime,
    TIMESTAMP '2016-02-01 00:00:00' + INTERVAL (i * 7 + 5 + i % 23) MINUTE AS tpep_dropoff_datetime,
    round(0.5 + (i * 37 % 100) / 10.0, 2)::DOUBLE AS trip_distance,
    round(4.0 + (i * 53 % 400) / 10.0, 2)::DOUBLE AS fare_amount,
    (10001 + (i * 13 % 90))::INT AS pickup_zip,
    (10001 + (i * 29 % 90))::INT AS dropoff_zip
  FROM range(1000) t(i)
`

/** The OAuth client ids the identity provider knows as public PKCE clients from the start. */
const defaultU2mClient = "effect-databricks-u2m"
const sdkClients = ["databricks-cli", "databricks-sql-connector"]

/**
 * Listens on 127.0.0.1 with a Node server we create, so that closing the scope
 * also destroys keep-alive and in-flight sockets (`server.close` alone waits for them),
 * and any socket that connects, or finishes its TLS handshake, after that: a driver still
 * downloading CloudFetch files when the emulator stops would otherwise send requests
 * nobody answers, and `server.close` would wait for them forever.
 */
const listen = (create: () => Http.Server, port: number, what: string) =>
  Effect.gen(function*() {
    let raw: Http.Server | undefined
    const sockets = new Set<Net.Socket>()
    let closing = false
    const track = (socket: Net.Socket) => {
      if (closing) return socket.destroy()
      sockets.add(socket)
      socket.once("close", () => sockets.delete(socket))
    }
    const make = () => {
      raw = create()
      raw.on("connection", track)
      raw.on("secureConnection", (socket: Net.Socket) => closing && socket.destroy())
      raw.on("request", (_request: Http.IncomingMessage, response: Http.ServerResponse) => {
        if (closing) response.socket?.destroy()
      })
      return raw
    }
    const server = yield* NodeHttpServer.make(make, { port, host: "127.0.0.1" }).pipe(
      Effect.mapError((error) =>
        new EmulatorError({
          message: `The emulator's ${what} could not listen on 127.0.0.1:${port}${
            port === 0 ? "" : "; is the port in use? Pick another, or 0 for any free port"
          }`,
          cause: error
        })
      )
    )
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        closing = true
        raw?.closeAllConnections()
        for (const socket of sockets) socket.destroy()
      })
    )
    if (server.address._tag !== "TcpAddress") return yield* Effect.dieMessage("expected a TCP address")
    return { server, port: server.address.port }
  })

const defaultIntegrations = (): Array<ConnectIntegration> => [
  { guid: Random.uuid(), name: "Databricks (viewer)", authType: "viewer" },
  { guid: Random.uuid(), name: "Databricks (service account)", authType: "service-account" }
]

export const make = (options?: Options): Effect.Effect<Emulator, EmulatorError, Scope.Scope> =>
  Effect.gen(function*() {
    const certificate = yield* LoopbackCertificate.generate().pipe(
      Effect.mapError((error) => new EmulatorError({ message: error.message, cause: error.cause }))
    )
    const caDir = yield* Effect.acquireRelease(
      Effect.promise(() => Fs.mkdtemp(Path.join(Os.tmpdir(), "effect-databricks-emulator-"))),
      (dir) => Effect.promise(() => Fs.rm(dir, { recursive: true, force: true }))
    )
    const caCertPath = Path.join(caDir, "ca.pem")
    yield* Effect.promise(() => Fs.writeFile(caCertPath, certificate.certPem))

    const workspace = yield* listen(
      () => Https.createServer({ cert: certificate.certPem, key: certificate.keyPem }),
      options?.port ?? 0,
      "workspace host"
    )
    const connect = yield* listen(() => Http.createServer(), options?.connectPort ?? 0, "Connect server")
    const federationServer = yield* listen(
      () => Https.createServer({ cert: certificate.certPem, key: certificate.keyPem }),
      options?.federationPort ?? 0,
      "workload identity provider"
    )
    const host = `https://127.0.0.1:${workspace.port}`
    const connectUrl = `http://127.0.0.1:${connect.port}`

    const now = yield* Clock.currentTimeMillis
    const lifetimeMs = Duration.toMillis(Duration.decode(options?.tokenLifetime ?? Duration.hours(1)))
    const registry = new Registry(`${host}/oidc`, lifetimeMs, [
      ...(options?.connect?.integrations ?? defaultIntegrations())
    ])
    const userPassword = options?.user?.password === undefined
      ? Random.secret("pw-", 12)
      : Redacted.value(options.user.password)
    const user = registry.addUser({
      userName: options?.user?.userName ?? "ada@example.com",
      displayName: options?.user?.displayName ?? "Ada Lovelace"
    }, userPassword)
    registry.approval = { principalId: user.id, decision: "approve", loginPage: options?.loginPage ?? false }
    const servicePrincipal = registry.addServicePrincipal({ displayName: "effect-databricks-emulator" })
    const pat = registry.addPat(user.id, undefined, now)
    for (const clientId of [defaultU2mClient, ...sdkClients]) registry.addOAuthClient(clientId)

    const apiKey = Random.secret("", 16)
    const userSessionToken = Random.secret("user-session-", 24)
    const contentSessionToken = Random.secret("content-session-", 24)
    const contentGuid = Random.uuid()
    registry.userSessions.set(userSessionToken, { principalId: user.id, expired: false })
    registry.contentSessions.set(contentSessionToken, { contentGuid, expired: false })
    const connectVersion = options?.connect?.version ?? "2025.09.0"

    const faults = new Faults()
    const stats = new Stats()
    const adminToken = Random.secret("admin-", 24)

    const millis = (duration: Duration.DurationInput | undefined) =>
      duration === undefined ? undefined : Duration.toMillis(Duration.decode(duration))
    const warehouse = yield* Warehouse.make({
      resultFormat: options?.warehouse?.resultFormat,
      maxBatchRows: options?.warehouse?.maxBatchRows,
      maxBytesPerFetch: options?.warehouse?.maxBytesPerFetch,
      cloudFetchThreshold: options?.warehouse?.cloudFetchThreshold,
      cloudFetchFileBytes: options?.warehouse?.cloudFetchFileBytes,
      cloudFetchLinksPerFetch: options?.warehouse?.cloudFetchLinksPerFetch,
      cloudFetchLinkExpiryMs: millis(options?.warehouse?.cloudFetchLinkExpiry),
      statementDelayMs: options?.warehouse?.statementDelay === undefined
        ? undefined
        : Duration.toMillis(Duration.decode(options.warehouse.statementDelay)),
      directResultsWaitMs: options?.warehouse?.directResultsWait === undefined
        ? undefined
        : Duration.toMillis(Duration.decode(options.warehouse.directResultsWait))
    }, { registry, faults, stats, host })
    if (options?.samples === true) {
      yield* warehouse.sql(sampleTrips).pipe(Effect.orDie)
    }
    const federation = WorkloadIdentity.make({
      url: `https://127.0.0.1:${federationServer.port}`,
      host,
      registry,
      faults,
      stats
    })
    yield* federationServer.server.serve(federation.app)
    const snapshot = () => ({ ...stats.snapshot(), ...warehouse.stats(), federation: federation.state.stats() })
    const addFault = (fault: Fault) =>
      fault.target === "warehouse" ? warehouse.applyWarehouseFault(fault) : Effect.sync(() => faults.add(fault))
    const reset = () => {
      faults.clear()
      stats.reset()
      warehouse.reset()
      federation.state.resetStats()
    }
    const workspaceRoutes = Workspace.router({
      host,
      registry,
      faults,
      stats,
      adminToken,
      warehouse,
      snapshot,
      addFault,
      reset,
      federation: federation.state
    })
    const workspacePaths = new Set(Array.from(workspaceRoutes.routes, (route) => route.path as string))
    const workspaceApp = workspaceRoutes.pipe(
      Effect.catchTag("RouteNotFound", () => Workspace.notFound(workspacePaths))
    )
    // CloudFetch's result files: served on the same host, but like presigned storage URLs (no bearer token).
    yield* workspace.server.serve(
      Effect.flatMap(
        HttpServerRequest.HttpServerRequest,
        (request) => request.url.startsWith(CloudFetch.pathPrefix) ? warehouse.download : workspaceApp
      )
    )
    const connectRoutes = Connect.router({
      registry,
      faults,
      stats,
      apiKey,
      version: () => connectVersion,
      defaultServicePrincipal: servicePrincipal.clientId
    })
    yield* connect.server.serve(connectRoutes.pipe(Effect.catchTag("RouteNotFound", () => Connect.notFound)))

    // Entra ID, the managed-identity endpoint and the metadata service, each on its own port (azure.ts).
    const azure = yield* AzureServers.make({
      listen,
      certificate,
      caCertPath,
      registry,
      faults,
      stats,
      host,
      user,
      tokenLifetimeMs: lifetimeMs
    })

    const lookup = (principal: Principal | undefined) => principal?.id ?? user.id
    const workspaceId = Random.numericId()

    const emulator: Emulator = {
      host,
      caCertPem: certificate.certPem,
      caCertPath,
      adminToken: Redacted.make(adminToken),
      user,
      userPassword: Redacted.make(userPassword),
      pat: Redacted.make(pat),
      servicePrincipal: {
        clientId: servicePrincipal.clientId,
        clientSecret: Redacted.make(servicePrincipal.clientSecret),
        principal: servicePrincipal.principal
      },
      u2m: { clientId: defaultU2mClient },
      httpPath: warehouse.httpPath,
      sql: warehouse.sql,
      deny: (principal, table) => Effect.sync(() => warehouse.engine.deny(principal.userName, table)),
      connect: {
        url: connectUrl,
        apiKey: Redacted.make(apiKey),
        userSessionToken: Redacted.make(userSessionToken),
        contentSessionToken: Redacted.make(contentSessionToken),
        get integrations() {
          return [...registry.integrations]
        }
      },
      registerUser: (newUser) =>
        Effect.sync(() =>
          registry.addUser(
            { userName: newUser.userName, displayName: newUser.displayName },
            newUser.password === undefined ? undefined : Redacted.value(newUser.password)
          )
        ),
      registerServicePrincipal: (spOptions) =>
        Effect.sync(() => {
          const created = registry.addServicePrincipal({
            displayName: spOptions?.displayName,
            clientId: spOptions?.clientId,
            clientSecret: spOptions?.clientSecret === undefined ? undefined : Redacted.value(spOptions.clientSecret)
          })
          return {
            clientId: created.clientId,
            clientSecret: Redacted.make(created.clientSecret),
            principal: created.principal
          }
        }),
      registerPat: (patOptions) =>
        Effect.map(Clock.currentTimeMillis, (at) =>
          Redacted.make(registry.addPat(
            lookup(patOptions?.principal),
            patOptions?.lifetime === undefined ? undefined : Duration.toMillis(Duration.decode(patOptions.lifetime)),
            at
          ))),
      registerOAuthClient: (client) =>
        Effect.sync(() =>
          registry.addOAuthClient(
            client.clientId,
            client.clientSecret === undefined ? undefined : Redacted.value(client.clientSecret)
          )
        ),
      registerUserSessionToken: (sessionOptions) =>
        Effect.sync(() => {
          const token = Random.secret("user-session-", 24)
          registry.userSessions.set(token, { principalId: lookup(sessionOptions?.user), expired: false })
          return Redacted.make(token)
        }),
      registerContentSessionToken: Effect.sync(() => {
        const token = Random.secret("content-session-", 24)
        registry.contentSessions.set(token, { contentGuid, expired: false })
        return Redacted.make(token)
      }),
      expireSessionToken: (token) =>
        Effect.sync(() => {
          const value = Redacted.value(token)
          const session = registry.userSessions.get(value) ?? registry.contentSessions.get(value)
          if (session !== undefined) session.expired = true
        }),
      setConnectIntegrations: (integrations) =>
        Effect.sync(() => {
          registry.integrations.splice(0, registry.integrations.length, ...integrations)
        }),
      setAuthorize: (authorizeOptions) =>
        Effect.sync(() => {
          registry.approval = {
            principalId: authorizeOptions.user?.id ?? registry.approval.principalId,
            decision: authorizeOptions.decision ?? registry.approval.decision,
            loginPage: authorizeOptions.loginPage ?? registry.approval.loginPage
          }
        }),
      faults: {
        add: addFault,
        clear: Effect.sync(() => faults.clear()),
        list: Effect.sync(() => faults.list())
      },
      stats: Effect.sync(snapshot),
      azure: azure.azure,
      metadataService: azure.metadataService,
      federation: federation.api,
      reset: Effect.sync(reset),
      appsProxy: (proxyOptions) => AppsProxy.make({ listen, registry, faults, stats, host, workspaceId }, proxyOptions),
      workbench: (workbenchOptions) => Workbench.make({ listen, registry, host, user }, workbenchOptions)
    }
    return emulator
  }).pipe(Effect.annotateLogs("component", "emulator"))
