/**
 * The one place driver failures become tagged errors, with the facts the retry decisions read (a
 * `RetryPolicy.Failure`); the decisions themselves are `RetryPolicy`'s.
 *
 * The driver's errors are classified by their type and fields (`statusCode`,
 * `errorCode`, `response.sqlState`, system `code`); the only message read is
 * the documented retry-exhaustion text, which carries the HTTP status nowhere
 * else.
 *
 * Every message built from foreign text (an HTTP body, a server's or the
 * driver's message) goes through `Redaction.redact` with the secrets of the
 * failing call (the tokens handed to the driver): a server that echoes the
 * request must not put the token into an error.
 *
 * @internal
 */
import {
  AuthenticationError,
  ConfigurationError,
  isDatabricksError,
  isExpiredTokenAnswer,
  NetworkError,
  parseRetryAfter,
  PermissionError,
  RateLimitError,
  ServerError,
  TimeoutError
} from "@effect-databricks/auth/DatabricksError"
import * as Redaction from "@effect-databricks/auth/Redaction"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import type * as RetryPolicy from "../RetryPolicy.js"
import { QueryError, ResultExpiredError, WarehouseError } from "../SqlError.js"
import type { SqlClientError } from "../SqlError.js"

/** The facts about a failed driver call: `RetryPolicy.Failure`, which every retry decision reads. */
export type Classified = RetryPolicy.Failure

/** Which driver call failed (`RetryPolicy.Phase`). */
export type Phase = RetryPolicy.Phase

const exhaustion = /Hive driver: (\d{3}|Error) when connecting to resource\. (?:Max retry count|Retry timeout) exceeded/
const networkCodes = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ECONNABORTED",
  "UND_ERR_SOCKET"
])

const cloudFetchFailure = /^CloudFetch (?:link has expired|HTTP error (\d{3})\b)/

const operationStates = new Set(["CANCELED", "CLOSED", "ERROR", "TIMEOUT", "UNKNOWN"])

const field = <A>(u: unknown, key: string): A | undefined =>
  Predicate.hasProperty(u, key) ? (u as Record<string, A>)[key] : undefined

const bodyText = (response: unknown): Effect.Effect<string> => {
  const text = field<() => Promise<string>>(response, "text")
  return typeof text === "function"
    ? Effect.promise(() => text.call(response).catch(() => "")).pipe(
      Effect.timeout("2 seconds"),
      Effect.orElseSucceed(() => "")
    )
    : Effect.succeed("")
}

/** The secrets of the failing call, removed from every message built from foreign text. */
type Secrets = Iterable<Redaction.Secret>

const fromStatus = (
  status: number,
  body: string,
  retryAfter: Option.Option<Duration.Duration>,
  phase: Phase,
  secrets: Secrets
) => {
  const text = Redaction.redact(body, { secrets, maxLength: 300 })
  const said = text === "" ? "" : `: ${text}`
  if (status === 401) {
    return new AuthenticationError({
      message: `The SQL warehouse refused the credentials (HTTP 401)${said}`,
      status,
      hint: "Check that the token is valid for this workspace"
    })
  }
  if (status === 403) {
    return new PermissionError({
      message: `The SQL warehouse denied access (HTTP 403)${said}`,
      status,
      hint: "The principal needs CAN USE on the warehouse (and access to the data)"
    })
  }
  if (status === 429) {
    return new RateLimitError({
      message: `The SQL warehouse is rate limiting requests (HTTP 429)${said}`,
      retryAfter
    })
  }
  if (status === 502 || status === 503 || status === 504) {
    return new WarehouseError({
      reason: /TEMPORARILY_UNAVAILABLE|starting/i.test(body) || status === 503 ? "Starting" : "Unavailable",
      message: `The SQL warehouse is not available (HTTP ${status})${said}`,
      hint: "A stopped warehouse starts on demand; this is retried"
    })
  }
  if (status === 404) {
    return new ConfigurationError({
      setting: "httpPath",
      message: `The SQL warehouse was not found (HTTP 404)${said}`,
      hint: "Check httpPath (DATABRICKS_HTTP_PATH): /sql/1.0/warehouses/<id> from the warehouse's Connection details"
    })
  }
  return new ServerError({ message: `The SQL warehouse failed with HTTP ${status} during ${phase}${said}`, status })
}

const statementText = (error: unknown, secrets: Secrets): string => {
  const response = field<Record<string, unknown>>(error, "response")
  const display = field<string>(response, "displayMessage") ?? field<string>(response, "errorMessage")
  return redactStatement(display ?? field<string>(error, "message") ?? text(error), secrets)
}

/** `String(u)`, which can throw (a hostile `toString`) and must not. */
const text = (u: unknown): string => {
  try {
    return String(u)
  } catch {
    return "(no message)"
  }
}

/** A server's message about a statement: long ones (with the SQL's context) are kept longer. */
const redactStatement = (message: unknown, secrets: Secrets): string =>
  Redaction.redact(typeof message === "string" ? message : text(message), { secrets, maxLength: 2000 })

/** A SQL failure: `QueryError`, or `PermissionError` for `[INSUFFICIENT_PERMISSIONS]`. */
const fromStatement = (message: string, sqlState: string | undefined, cause: unknown): SqlClientError => {
  const query = QueryError.fromServerMessage(message, { sqlState, cause })
  return query.errorClass === "INSUFFICIENT_PERMISSIONS"
    ? new PermissionError({ message, hint: "Ask for the privilege the message names (GRANT SELECT ...)", cause: query })
    : query
}

const classified = (
  error: SqlClientError,
  phase: Phase,
  extra?: Partial<Omit<Classified, "error" | "phase">>
): Classified => ({
  error,
  phase,
  notExecuted: phase === "connect" || phase === "open",
  sessionInvalid: false,
  expiredToken: false,
  callTimedOut: false,
  linkExpired: false,
  ...extra
})

export const classify = (cause: unknown, phase: Phase, secrets: Secrets = []): Effect.Effect<Classified> =>
  Effect.gen(function*() {
    if (isDatabricksError(cause) || Predicate.isTagged(cause, "QueryError")) {
      return classified(cause as SqlClientError, phase)
    }

    const statusCode = field<number>(cause, "statusCode")
    if (typeof statusCode === "number") {
      const response = field<unknown>(cause, "response")
      const body = yield* bodyText(response)
      // Seconds or an HTTP-date (the driver itself reads seconds as milliseconds).
      const headers = field<{ get?: (name: string) => string | null }>(response, "headers")
      const retryAfter = parseRetryAfter(headers?.get?.("retry-after"), yield* Clock.currentTimeMillis)
      const error = fromStatus(statusCode, body, retryAfter, phase, secrets)
      return classified(error, phase, {
        notExecuted: phase === "connect" || phase === "open" ||
          (phase === "submit" && (statusCode === 429 || statusCode === 503)),
        expiredToken: isExpiredTokenAnswer(statusCode, body)
      })
    }

    const raw = field<unknown>(cause, "message")
    const message = typeof raw === "string" ? raw : ""
    const exhausted = exhaustion.exec(message)
    if (exhausted !== null) {
      // The one documented driver case: the status is only in the text.
      const status = Number(exhausted[1])
      return Number.isNaN(status)
        ? classified(new NetworkError({ message: "The SQL warehouse could not be reached; the driver gave up" }), phase)
        : classified(fromStatus(status, "", Option.none(), phase, secrets), phase)
    }

    // The driver's `RetryError` (errors/RetryError.js) thrown as it is, not wrapped in "Hive driver: …": a CloudFetch
    // download whose retries (off here, RetryPolicy decides) ran out. `payload` is the last network error, or the
    // last `{ response }`.
    const retryCode = field<string>(cause, "errorCode")
    if (retryCode === "ATTEMPTS_EXCEEDED" || retryCode === "TIMEOUT_EXCEEDED") {
      const payload = field<unknown>(cause, "payload")
      const status = field<number>(field<unknown>(payload, "response"), "status")
      if (typeof status === "number") {
        return classified(fromStatus(status, "", Option.none(), phase, secrets), phase)
      }
      if (payload !== undefined && payload !== cause) return yield* classify(payload, phase, secrets)
    }

    // The driver's CloudFetch download (2.1, `result/CloudFetchResultHandler.js`, `downloadLink`): a plain `Error`,
    // "CloudFetch link has expired" when its own clock says so, else "CloudFetch HTTP error <status> <text>" for
    // any answer but 2xx (storage refuses an expired presigned URL with 403). No field tells them apart.
    const cloudFetch = cloudFetchFailure.exec(message)
    if (cloudFetch !== null && (cloudFetch[1] === undefined || cloudFetch[1] === "403")) {
      return classified(
        new ResultExpiredError({
          message: cloudFetch[1] === undefined
            ? "A result file's download link had expired before it was read (CloudFetch)"
            : "Cloud storage refused a result file's download link (CloudFetch, HTTP 403): it has expired",
          rowsDelivered: 0,
          hint: "Links are valid for minutes: read the result without long pauses, check the clock, " +
            "or run the statement again"
        }),
        phase,
        { linkExpired: true }
      )
    }

    const name = field<string>(cause, "name")
    const code = field<string>(cause, "code")
    if (name === "FetchError" || (typeof code === "string" && networkCodes.has(code))) {
      return classified(
        new NetworkError({
          message: `The SQL warehouse connection failed during ${phase}${typeof code === "string" ? ` (${code})` : ""}`,
          ...(typeof code === "string" ? { code } : {}),
          hint: "Check the host and the network; the request got no answer"
        }),
        phase
      )
    }

    // A driver socketTimeout: a TApplicationException of type 7 with no HTTP status.
    if (field<number>(cause, "type") === 7 && /timed out/i.test(message)) {
      return classified(
        new TimeoutError({ message: `The SQL warehouse did not answer during ${phase}`, operation: phase }),
        phase,
        { callTimedOut: true }
      )
    }

    // OperationStateError: a terminal state while waiting, with the server's status response.
    const errorCode = field<string>(cause, "errorCode")
    if (typeof errorCode === "string" && operationStates.has(errorCode)) {
      if (errorCode === "TIMEOUT") {
        return classified(
          new TimeoutError({ message: "The statement timed out on the warehouse", operation: "statement" }),
          phase
        )
      }
      const response = field<Record<string, unknown>>(cause, "response")
      return classified(
        fromStatement(statementText(cause, secrets), field<string>(response, "sqlState"), undefined),
        phase
      )
    }

    if (name === "Status Error") {
      const invalid = /Invalid (Session|Operation)Handle/i.test(message)
      if (invalid) {
        return classified(
          new WarehouseError({
            reason: "Unavailable",
            message: "The SQL session expired on the warehouse",
            hint: "A fresh session is opened and the call runs again"
          }),
          phase,
          { sessionInvalid: true, notExecuted: phase !== "fetch" && phase !== "wait" }
        )
      }
      return classified(fromStatement(redactStatement(message, secrets), undefined, undefined), phase)
    }

    if (/The session was closed or has expired/i.test(message)) {
      return classified(
        new WarehouseError({
          reason: "Unavailable",
          message: "The SQL session expired",
          hint: "A fresh session is opened and the call runs again"
        }),
        phase,
        { sessionInvalid: true, notExecuted: phase !== "fetch" && phase !== "wait" }
      )
    }

    return classified(
      new ServerError({
        message: `Unexpected failure from the SQL driver during ${phase}: ${
          Redaction.redact(message === "" ? text(cause) : message, { secrets, maxLength: 200 })
        }`,
        status: 0
      }),
      phase
    )
  }).pipe(
    // The driver may reject with anything (a getter that throws, a hostile toString): never a defect.
    Effect.catchAllDefect(() =>
      Effect.succeed(
        classified(
          new ServerError({ message: `Unexpected failure from the SQL driver during ${phase}`, status: 0 }),
          phase
        )
      )
    )
  )

/**
 * A call that got no answer within its own deadline (`timeouts.rpc`): the client gave up on it. Before the
 * statement (OpenSession) it cannot have run.
 */
export const timedOut = (phase: Phase, after: Duration.Duration): Classified => ({
  error: new TimeoutError({
    message: phase === "fetch"
      ? `No rows arrived within ${Duration.format(after)} (fetch: a FetchResults, or a result file's download ` +
        "from cloud storage)"
      : `The SQL warehouse did not answer within ${Duration.format(after)} (${phase})`,
    operation: phase,
    timeout: after,
    hint: "The call is abandoned; its session is not reused"
  }),
  phase,
  notExecuted: phase === "open",
  sessionInvalid: false,
  expiredToken: false,
  callTimedOut: true,
  linkExpired: false
})
