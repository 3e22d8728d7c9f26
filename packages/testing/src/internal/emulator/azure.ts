import type * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import * as Https from "node:https"
import type { Azure, MetadataService, Principal } from "../../Emulator.js"
import type { EmulatorError } from "../../EmulatorError.js"
import type { LoopbackCertificate } from "../../LoopbackCertificate.js"
import * as AzureCli from "./azureCli.js"
import * as Entra from "./entra.js"
import type { Faults } from "./faults.js"
import { endpoint, json } from "./http.js"
import * as ManagedIdentity from "./managedIdentity.js"
import * as MetadataServiceServer from "./metadataService.js"
import * as Random from "./random.js"
import type { Registry } from "./registry.js"
import type { Stats } from "./stats.js"

/**
 * @internal
 *
 * Azure and the metadata service around the emulated workspace: an Entra ID
 * authority (HTTPS, the workspace's certificate), an Instance Metadata Service
 * (HTTP, as IMDS is) and a metadata-service token server (HTTP), each on its
 * own 127.0.0.1 port with the emulator's faults and stats, and the public
 * `Emulator.azure` / `Emulator.metadataService` APIs over them.
 */

export interface Deps {
  readonly listen: (
    create: () => Http.Server,
    port: number,
    what: string
  ) => Effect.Effect<{ readonly server: HttpServer.HttpServer; readonly port: number }, EmulatorError, Scope.Scope>
  readonly certificate: LoopbackCertificate
  readonly caCertPath: string
  readonly registry: Registry
  readonly faults: Faults
  readonly stats: Stats
  /** The workspace host, which the default metadata-service URL serves tokens for. */
  readonly host: string
  /** The workspace's default user: the Entra user and the metadata service's default principal. */
  readonly user: Principal
  readonly tokenLifetimeMs: number
}

const notFound = Effect.map(
  HttpServerRequest.HttpServerRequest,
  (request) => json(404, { error: "not_found", error_description: `No endpoint at ${request.url.split("?")[0]}` })
)

export const make = (deps: Deps): Effect.Effect<
  { readonly azure: Azure; readonly metadataService: MetadataService },
  EmulatorError,
  Scope.Scope
> =>
  Effect.gen(function*() {
    const endpointDeps = { faults: deps.faults, stats: deps.stats }
    const subscriptionId = Random.uuid()
    const workspaceResourceId =
      `/subscriptions/${subscriptionId}/resourceGroups/emulator-rg/providers/Microsoft.Databricks/workspaces/emulator`
    const directory = new Entra.Directory(deps.registry, workspaceResourceId, deps.tokenLifetimeMs)
    deps.registry.verifiers.push(directory.verifier)

    const entra = yield* deps.listen(
      () => Https.createServer({ cert: deps.certificate.certPem, key: deps.certificate.keyPem }),
      0,
      "Entra ID authority"
    )
    const authorityHost = `https://127.0.0.1:${entra.port}`
    const entraPattern = /^\/([^/?]+)\/oauth2\/(v2\.0\/)?token(?:\?.*)?$/
    yield* entra.server.serve(
      Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
        const match = entraPattern.exec(request.url)
        if (match === null || request.method !== "POST") return notFound
        const tenant = decodeURIComponent(match[1])
        return endpoint(
          "entra_token",
          endpointDeps,
          Entra.token(directory, authorityHost, tenant, match[2] === undefined ? "v1" : "v2")
        )
      })
    )

    const machine: ManagedIdentity.Machine = { systemAssigned: undefined, userAssigned: new Set() }
    const imds = yield* deps.listen(() => Http.createServer(), 0, "managed-identity endpoint")
    yield* imds.server.serve(
      Effect.flatMap(
        HttpServerRequest.HttpServerRequest,
        (request) =>
          request.url.split("?")[0] === ManagedIdentity.path
            ? endpoint("managed_identity", endpointDeps, ManagedIdentity.token(directory, machine))
            : notFound
      )
    )
    const imdsBase = `http://127.0.0.1:${imds.port}`

    const bindings = new Map<string, MetadataServiceServer.Binding>()
    const metadata = yield* deps.listen(() => Http.createServer(), 0, "metadata service")
    yield* metadata.server.serve(
      endpoint("metadata_service", endpointDeps, MetadataServiceServer.token(deps.registry, bindings))
    )
    const bind = (binding: MetadataServiceServer.Binding) => {
      // The path is the secret that keeps other local processes out, as IDE extensions do it.
      const path = `/${Random.secret("", 16)}`
      bindings.set(path, binding)
      return `http://127.0.0.1:${metadata.port}${path}`
    }

    const tenantId = directory.addTenant()
    const servicePrincipal = directory.addApp({
      kind: "application",
      tenantId,
      displayName: "effect-databricks-entra-app",
      access: "member"
    })
    const userPassword = Random.secret("pw-", 12)
    directory.addUser({
      tenantId,
      upn: deps.user.userName,
      displayName: deps.user.displayName,
      password: userPassword,
      access: "member"
    })
    const systemIdentity = directory.addApp({ kind: "managed-identity", tenantId, access: "member" })
    machine.systemAssigned = systemIdentity.clientId

    const publicApp = (app: Entra.App) => ({
      tenantId: app.tenantId,
      clientId: app.clientId,
      clientSecret: Redacted.make(app.secret ?? ""),
      displayName: app.displayName
    })

    const azure: Azure = {
      authorityHost,
      tenantId,
      subscriptionId,
      workspaceResourceId,
      servicePrincipal: publicApp(servicePrincipal),
      user: { tenantId, userName: deps.user.userName, password: Redacted.make(userPassword) },
      managedIdentityEndpoint: imdsBase,
      managedIdentity: { clientId: systemIdentity.clientId },
      registerTenant: Effect.sync(() => directory.addTenant()),
      registerServicePrincipal: (options) =>
        Effect.sync(() =>
          publicApp(directory.addApp({
            kind: "application",
            tenantId: options?.tenantId ?? tenantId,
            clientId: options?.clientId,
            secret: options?.clientSecret === undefined ? undefined : Redacted.value(options.clientSecret),
            displayName: options?.displayName,
            access: options?.workspace ?? "member"
          }))
        ),
      registerUser: (options) =>
        Effect.sync(() => {
          const password = options.password === undefined ? Random.secret("pw-", 12) : Redacted.value(options.password)
          const user = directory.addUser({
            tenantId: options.tenantId ?? tenantId,
            upn: options.userName,
            displayName: options.displayName ?? options.userName,
            password,
            access: options.workspace ?? "member"
          })
          return { tenantId: user.tenantId, userName: user.upn, password: Redacted.make(password) }
        }),
      registerManagedIdentity: (options) =>
        Effect.sync(() => {
          const identity = directory.addApp({
            kind: "managed-identity",
            tenantId: options?.tenantId ?? tenantId,
            displayName: options?.displayName,
            access: options?.workspace ?? "member"
          })
          if (options?.assignment === "system") machine.systemAssigned = identity.clientId
          else machine.userAssigned.add(identity.clientId)
          return { clientId: identity.clientId }
        }),
      setManagedIdentities: (options) =>
        Effect.sync(() => {
          if (options.systemAssigned === false) machine.systemAssigned = undefined
          if (options.userAssigned !== undefined) {
            machine.userAssigned.clear()
            for (const id of options.userAssigned) machine.userAssigned.add(id)
          }
        }),
      setServicePrincipalSecret: (clientId, options) =>
        Effect.sync(() => {
          const app = directory.apps.get(clientId.toLowerCase())
          if (app === undefined) return
          if (options.clientSecret !== undefined) app.secret = Redacted.value(options.clientSecret)
          if (options.expired !== undefined) app.secretExpired = options.expired
        }),
      setWorkspaceAccess: (userNameOrClientId, access) =>
        Effect.sync(() => {
          const key = userNameOrClientId.toLowerCase()
          const identity = directory.apps.get(key) ?? directory.users.get(key)
          if (identity !== undefined) identity.access = access
        }),
      cli: (options) =>
        AzureCli.write({
          login: options?.login ?? { servicePrincipal: publicApp(servicePrincipal) },
          authority: authorityHost,
          caCertPath: deps.caCertPath,
          subscription: subscriptionId
        })
    }

    const metadataService: MetadataService = {
      url: bind({ host: deps.host, principal: deps.user }),
      register: (options) =>
        Effect.sync(() => bind({ host: options?.host ?? deps.host, principal: options?.principal ?? deps.user }))
    }
    return { azure, metadataService }
  })
