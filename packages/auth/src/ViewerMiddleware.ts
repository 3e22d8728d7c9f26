/**
 * Server middleware that gives every request its viewer (`Viewer`), for
 * `@effect/platform`'s `HttpRouter`/`HttpApp` (`middleware`, `make`) and
 * `HttpApi` (`Authorization` with `layerAuthorization`).
 *
 * - On Posit Connect it reads `Posit-Connect-User-Session-Token`, on
 *   Databricks Apps `X-Forwarded-Access-Token` (with `X-Forwarded-User`,
 *   `-Email`, `-Preferred-Username`); `make({ identify })` reads your own.
 * - A request without them on the platform is answered 401 with the reason
 *   and what to do; the app's own identity never stands in for a viewer.
 * - Off both platforms every request is the `local` credential of
 *   `Viewer.layer`, which says so in a log line when it starts.
 *
 * The handler gets `Viewer.Viewer` and, with `middleware`, the viewer's
 * `TokenSource` (with `HttpApi`, wrap the handler in `Viewer.asViewer`).
 *
 * @since 0.3.0
 */
import * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type { AuthenticationError } from "./DatabricksError.js"
import * as TokenSource from "./TokenSource.js"
import * as Viewer from "./Viewer.js"

/**
 * @since 0.3.0
 * @category options
 */
export interface Options<R = never> {
  /**
   * For custom servers: who the request's viewer is. Default: the platform's
   * headers (`Viewers.fromHeaders`). Fail with an `AuthenticationError` to
   * answer 401.
   */
  readonly identify?:
    | ((request: HttpServerRequest.HttpServerRequest) => Effect.Effect<Viewer.Credential, AuthenticationError, R>)
    | undefined
}

/** The request's viewer, by `identify` or by the platform's headers. */
const viewerOf = <R>(options: Options<R> | undefined) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const viewers = yield* Viewer.Viewers
    const identify = options?.identify
    return yield* identify === undefined
      ? viewers.fromHeaders(request.headers)
      : Effect.flatMap(identify(request), viewers.resolve)
  })

/** The 401 body: our own words (the error's message and hint), never a header's value. */
const unauthorized = (error: AuthenticationError) =>
  HttpServerResponse.text(`${error.message}\n${error.hint ?? ""}\n`.replace(/\n\n$/, "\n"), { status: 401 })

/**
 * A middleware that identifies the viewer of each request (see `Options`):
 * the handler gets `Viewer.Viewer` and the viewer's `TokenSource`; a request
 * with no viewer is answered 401 with the reason.
 *
 * @since 0.3.0
 * @category middleware
 */
export const make = <RI = never>(options?: Options<RI>) =>
<E, R>(
  app: HttpApp.Default<E, R>
): HttpApp.Default<E, Exclude<R, Viewer.Viewer | TokenSource.TokenSource> | Viewer.Viewers | RI> =>
  Effect.gen(function*() {
    const viewer = yield* Effect.either(viewerOf(options))
    if (Either.isLeft(viewer)) return unauthorized(viewer.left)
    return yield* app.pipe(
      Effect.provideService(Viewer.Viewer, viewer.right),
      Effect.provideService(TokenSource.TokenSource, viewer.right.tokenSource)
    )
  }) as HttpApp.Default<E, Exclude<R, Viewer.Viewer | TokenSource.TokenSource> | Viewer.Viewers | RI>

/**
 * `make()`: the platform's headers. Use it with `HttpRouter.use`,
 * `HttpServer.serve(app, middleware)` or on one route's handler.
 *
 * @since 0.3.0
 * @category middleware
 */
export const middleware: <E, R>(
  app: HttpApp.Default<E, R>
) => HttpApp.Default<E, Exclude<R, Viewer.Viewer | TokenSource.TokenSource> | Viewer.Viewers> = make()

/**
 * `HttpApi`'s answer to a request without a viewer: status 401, with the
 * reason and what to do.
 *
 * @since 0.3.0
 * @category errors
 */
export class ViewerUnauthorized extends Schema.TaggedError<ViewerUnauthorized>()(
  "ViewerUnauthorized",
  { message: Schema.String, hint: Schema.optional(Schema.String) },
  HttpApiSchema.annotations({ status: 401 })
) {}

/**
 * The `HttpApi` middleware: add it to an API, group or endpoint
 * (`.middleware(ViewerMiddleware.Authorization)`) and provide
 * `layerAuthorization`; handlers get `Viewer.Viewer`.
 *
 * @since 0.3.0
 * @category http-api
 */
export class Authorization extends HttpApiMiddleware.Tag<Authorization>()(
  "@effect-databricks/auth/ViewerMiddleware/Authorization",
  { failure: ViewerUnauthorized, provides: Viewer.Viewer }
) {}

/**
 * The implementation of `Authorization` (see `Options` for `identify`).
 *
 * @since 0.3.0
 * @category http-api
 */
export const layerAuthorization = <RI = never>(
  options?: Options<RI>
): Layer.Layer<Authorization, never, Viewer.Viewers | RI> =>
  Layer.effect(
    Authorization,
    Effect.map(Effect.context<Viewer.Viewers | RI>(), (context) =>
      viewerOf(options).pipe(
        Effect.mapError((error) =>
          new ViewerUnauthorized({ message: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }) })
        ),
        Effect.provide(context)
      ))
  )
