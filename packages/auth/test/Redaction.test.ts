import { Redaction } from "@effect-databricks/auth"
import { assert, describe, it } from "@effect/vitest"
import { FastCheck as fc, Redacted } from "effect"

const r = (text: string, secrets?: ReadonlyArray<Redaction.Secret>) => Redaction.redact(text, { secrets })

describe("Redaction.redact", () => {
  it("removes known values: plain strings and Redacted, wherever they appear", () => {
    const secret = "s3cret-value-1"
    assert.strictEqual(r(`got ${secret} twice: ${secret}.`, [secret]), "got <redacted> twice: <redacted>.")
    assert.strictEqual(r(`got ${secret}`, [Redacted.make(secret)]), "got <redacted>")
    assert.strictEqual(r("nothing to see", [secret, undefined]), "nothing to see")
  })

  it("removes the URL-encoded, form-encoded and JSON-escaped forms of a known value", () => {
    const secret = "a+b/c=d&e f\"g\\h"
    const text = [
      encodeURIComponent(secret),
      new URLSearchParams({ v: secret }).toString().slice(2),
      JSON.stringify(secret).slice(1, -1)
    ].join(" | ")
    assert.strictEqual(r(text, [secret]), "<redacted> | <redacted> | <redacted>")
  })

  it("removes each line of a multi-line value, and a value split by a control character", () => {
    const secret = "first-line-part\r\nsecond-line-part"
    assert.strictEqual(r("a first-line-part b second-line-part c", [secret]), "a <redacted> b <redacted> c")
    assert.strictEqual(r("x sec\u0001ret-value y", ["secret-value"]), "x <redacted> y")
  })

  it("removes a longer secret whole when a shorter one is inside it", () => {
    assert.strictEqual(r("key=abcdefgh-ijkl!", ["abcd", "abcdefgh-ijkl"]), "key=<redacted>!")
  })

  it("removes Authorization header values and Bearer/Basic credentials", () => {
    assert.strictEqual(r("Authorization: Basic dXNlcjpwYXNz"), "Authorization: <redacted>")
    assert.strictEqual(r("authorization=Bearer abc.def"), "authorization=<redacted>")
    assert.strictEqual(r(`{"Authorization":"Key k1"}`), `{"Authorization":"<redacted>"}`)
    assert.strictEqual(
      r("sent Bearer eyAbc123 then Basic Zm9vOmJhcg=="),
      "sent Bearer <redacted> then Basic <redacted>"
    )
  })

  it("removes secret parameters in key=value, key: value and JSON form, quoted values whole", () => {
    assert.strictEqual(
      r("grant_type=client_credentials&client_secret=abc%2B1&scope=all-apis"),
      "grant_type=client_credentials&client_secret=<redacted>&scope=all-apis"
    )
    assert.strictEqual(r("refresh_token: r1-xyz"), "refresh_token: <redacted>")
    assert.strictEqual(
      r(`{"access_token": "a b c", "expires_in": 3600}`),
      `{"access_token": "<redacted>", "expires_in": 3600}`
    )
    assert.strictEqual(r(`body {\\"password\\":\\"p w\\"}`), `body {\\"password\\":\\"<redacted>\\"}`)
    assert.strictEqual(r("api_key='k 1'"), "api_key='<redacted>'")
  })

  it("removes JWTs and Databricks personal access tokens", () => {
    assert.strictEqual(r("token eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.sig here"), "token <redacted> here")
    assert.strictEqual(r("pat dapi0123456789abcdef-2 used"), "pat <redacted> used")
  })

  it("removes URL user information whole, even a password holding @ or :", () => {
    assert.strictEqual(r("at https://user:p@ss@host.example.com/x"), "at https://<redacted>@host.example.com/x")
    assert.strictEqual(r("at https://token@host.example.com"), "at https://<redacted>@host.example.com")
    assert.strictEqual(r("at https://u:p:q@h/x?y"), "at https://<redacted>@h/x?y")
    // An address in a path is not user information.
    assert.strictEqual(r("GET https://h/users/ada@example.com"), "GET https://h/users/ada@example.com")
  })

  it("leaves prose about credentials intact", () => {
    for (
      const prose of [
        "Basic authentication failed",
        "Token has expired",
        "Invalid access token.",
        "Bearer token required",
        "The token_type must be bearer",
        "invalid_client: Client authentication failed"
      ]
    ) {
      assert.strictEqual(r(prose), prose)
    }
  })

  it("drops control characters but keeps line breaks and tabs, and cuts to maxLength after redaction", () => {
    assert.strictEqual(r("a\u0000b\u001bc\td\ne"), "abc\td\ne")
    const secret = "0123456789-secret"
    // The cut comes after removal: a secret straddling the limit leaves no prefix behind.
    const text = `${"x".repeat(5)}${secret}`
    assert.strictEqual(Redaction.redact(text, { secrets: [secret], maxLength: 8 }), "xxxxx<re…")
  })

  it.prop(
    "a known secret embedded in any text never survives",
    [fc.string(), fc.string({ minLength: 4 }), fc.string()],
    ([before, secret, after]) => {
      // A secret that is part of the placeholder itself cannot be told apart from it.
      fc.pre(secret.trim().length >= 4 && !Redaction.placeholder.includes(secret.trim()))
      const result = Redaction.redact(`${before}${secret}${after}`, { secrets: [secret], maxLength: 100_000 })
      assert.isFalse(result.includes(secret), JSON.stringify({ before, secret, after, result }))
    },
    { fastCheck: { numRuns: 300, seed: 14 } }
  )

  it("containsSecret finds a value as is or encoded", () => {
    assert.isTrue(Redaction.containsSecret("x a%2Fb%2Bc y", ["a/b+c"]))
    assert.isFalse(Redaction.containsSecret("x <redacted> y", ["a/b+c"]))
  })
})
