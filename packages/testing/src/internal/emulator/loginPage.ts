/**
 * The identity provider's login and consent page, for tests that drive a real browser: the authorize endpoint
 * answers with an HTML form (user name, password, "Allow", "Deny") instead of approving at once, and the form's
 * `POST` to the same path finishes the authorization request with a redirect to the client.
 *
 * The form is safe against cross-site posts: it carries the pending authorization's id (random, single use,
 * ten minutes), which a page elsewhere cannot know, and a post whose `Origin` is not the workspace host is
 * refused. A post without a known id, or with a wrong password, is answered with the page and an error.
 *
 * @internal
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { header, readForm, Reply, type RequestInfo } from "./http.js"
import * as Random from "./random.js"
import type { Registry } from "./registry.js"

/** An authorization request the page has not answered yet; everything a code needs, checked already. */
export interface PendingAuthorization {
  readonly clientId: string
  readonly redirectUri: string
  readonly challenge: string
  readonly scope: string
  readonly state: string | null
  readonly expiresAt: number
}

const pendingLifetime = 10 * 60_000

/** The field names of the form, for the page and for tests that post it. */
export const fields = {
  id: "authorization_id",
  userName: "username",
  password: "password",
  decision: "decision"
} as const

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" })[c]!)

/**
 * No script, no framing (clickjacking), no referrer to other sites. The policy is `same-origin`, not
 * `no-referrer`: under `no-referrer` a browser posts the form with `Origin: null`, which the check below refuses.
 * There is no `form-action`: browsers apply it to the redirect after the post too, to the client's loopback URL.
 */
const pageHeaders = {
  "cache-control": "no-store",
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  "x-frame-options": "DENY",
  "referrer-policy": "same-origin",
  "x-content-type-options": "nosniff"
}

const style = `body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;color:#1b1b1b}
h1{font-size:1.4rem}label{display:block;margin-top:.8rem}input{width:100%;padding:.4rem;box-sizing:border-box}
.error{color:#a40000;border:1px solid #a40000;padding:.5rem}.buttons{margin-top:1.2rem;display:flex;gap:.5rem}
button{padding:.5rem 1rem}ul{padding-left:1.2rem}`

const document = (title: string, body: string) =>
  `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escape(title)}</title><style>${style}</style></head>
<body>
${body}
</body>
</html>
`

const html = (status: number, title: string, body: string) =>
  HttpServerResponse.text(document(title, body), {
    status,
    contentType: "text/html; charset=utf-8",
    headers: pageHeaders
  })

/** The page for a pending authorization, with an error from the last attempt if there was one. */
const formPage = (
  status: number,
  id: string,
  pending: PendingAuthorization,
  host: string,
  options?: { readonly error?: string; readonly userName?: string }
) => {
  const scopes = pending.scope.split(" ").filter((s) => s !== "").map((s) => `<li>${escape(s)}</li>`).join("")
  return html(
    status,
    "Log in to Databricks",
    `<h1>Log in to Databricks</h1>
<p>The application <strong id="client-id">${escape(pending.clientId)}</strong> asks to act for you on
<span id="workspace">${escape(host)}</span> with these scopes:</p>
<ul id="scopes">${scopes}</ul>
${options?.error === undefined ? "" : `<p class="error" id="error" role="alert">${escape(options.error)}</p>`}
<form method="post" action="/oidc/v1/authorize" autocomplete="off">
<input type="hidden" name="${fields.id}" value="${escape(id)}">
<label for="username">User name</label>
<input id="username" name="${fields.userName}" type="text" autocomplete="username" required
 value="${escape(options?.userName ?? "")}">
<label for="password">Password</label>
<input id="password" name="${fields.password}" type="password" autocomplete="current-password" required>
<div class="buttons">
<button id="allow" type="submit" name="${fields.decision}" value="allow">Allow</button>
<button id="deny" type="submit" name="${fields.decision}" value="deny" formnovalidate>Deny</button>
</div>
</form>`
  )
}

/** A page with no form: the request cannot go on from here. */
const errorPage = (status: number, message: string) =>
  html(
    status,
    "Login failed",
    `<h1>This login cannot continue</h1>
<p class="error" id="error" role="alert">${escape(message)}</p>
<p>Start the login again from the application.</p>`
  )

/** The workspace host, `https://127.0.0.1:PORT`: the origin of the issuer. */
const hostOf = (registry: Registry) => new URL(registry.issuer).origin

/** The redirect back to the client: RFC 6749 §4.1.2 (code) or §4.1.2.1 (error), with the client's `state`. */
export const redirectBack = (
  redirectUri: string,
  state: string | null,
  params: Record<string, string>,
  status: 302 | 303 = 302
) => {
  const location = new URL(redirectUri)
  for (const [key, value] of Object.entries(params)) location.searchParams.set(key, value)
  if (state !== null) location.searchParams.set("state", state)
  return HttpServerResponse.redirect(location.toString(), { status })
}

/** Answers a checked authorization request with the page, remembering it under a new id. */
export const start = (registry: Registry, request: Omit<PendingAuthorization, "expiresAt">) =>
  Effect.map(Clock.currentTimeMillis, (now) => {
    for (const [id, pending] of registry.pendingAuthorizations) {
      if (now >= pending.expiresAt) registry.pendingAuthorizations.delete(id)
    }
    const id = Random.secret("", 24)
    const pending = { ...request, expiresAt: now + pendingLifetime }
    registry.pendingAuthorizations.set(id, pending)
    return formPage(200, id, pending, hostOf(registry))
  })

const refuse = (status: number, message: string) => new Reply({ response: errorPage(status, message) })

/**
 * `POST /oidc/v1/authorize`: the login page's answer. "Deny" redirects with `error=access_denied` (no password
 * needed to say no); "Allow" with the right user name and password redirects with a code for that user. Both
 * use 303, so the browser follows with a `GET`. The id is taken out once the request is answered.
 */
export const submit = (registry: Registry) => (info: RequestInfo) =>
  Effect.gen(function*() {
    const host = hostOf(registry)
    const request = yield* HttpServerRequest.HttpServerRequest
    const origin = header(request, "origin")
    // Browsers send Origin with every form post: another site's (or `null`, from a sandboxed or opaque page) is a
    // cross-site request, whatever the form holds. A client that is not a browser sends none.
    if (origin !== undefined && origin !== host) {
      return yield* Effect.fail(refuse(403, "The form was posted from another site; it was refused."))
    }
    const form = yield* readForm((status, message) => refuse(status, message))
    info.params = [...form.keys()].sort()
    const id = form.get(fields.id)
    if (id === undefined || id === "") {
      return yield* Effect.fail(refuse(400, `The form carried no ${fields.id}; it was not sent by the login page.`))
    }
    const pending = registry.pendingAuthorizations.get(id)
    const now = yield* Clock.currentTimeMillis
    if (pending === undefined || now >= pending.expiresAt) {
      registry.pendingAuthorizations.delete(id)
      return yield* Effect.fail(refuse(400, "This login form has expired or was already used."))
    }
    const decision = form.get(fields.decision)
    if (decision === "deny") {
      registry.pendingAuthorizations.delete(id)
      return redirectBack(pending.redirectUri, pending.state, {
        error: "access_denied",
        error_description: "The user denied the request"
      }, 303)
    }
    const userName = form.get(fields.userName) ?? ""
    if (decision !== "allow") {
      return formPage(400, id, pending, host, { error: "Choose Allow or Deny.", userName })
    }
    const principal = registry.userByPassword(userName, form.get(fields.password) ?? "")
    if (principal === undefined) {
      return formPage(401, id, pending, host, { error: "Wrong user name or password.", userName })
    }
    registry.pendingAuthorizations.delete(id)
    info.principal = principal.userName
    const code = registry.addCode({
      clientId: pending.clientId,
      redirectUri: pending.redirectUri,
      challenge: pending.challenge,
      scope: pending.scope,
      principalId: principal.id
    }, now)
    return redirectBack(pending.redirectUri, pending.state, { code }, 303)
  })
