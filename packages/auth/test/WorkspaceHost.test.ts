import { WorkspaceHost } from "@effect-databricks/auth"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either } from "effect"

const good: ReadonlyArray<readonly [input: string, url: string, hostname: string, port: number]> = [
  [
    "https://adb-123.4.azuredatabricks.net",
    "https://adb-123.4.azuredatabricks.net",
    "adb-123.4.azuredatabricks.net",
    443
  ],
  ["https://dbc-1.cloud.databricks.com/", "https://dbc-1.cloud.databricks.com", "dbc-1.cloud.databricks.com", 443],
  ["dbc-1.cloud.databricks.com", "https://dbc-1.cloud.databricks.com", "dbc-1.cloud.databricks.com", 443],
  ["HTTPS://DBC-1.Cloud.Databricks.com", "https://dbc-1.cloud.databricks.com", "dbc-1.cloud.databricks.com", 443],
  ["https://h.example.com:443", "https://h.example.com", "h.example.com", 443],
  ["https://h.example.com:8443/", "https://h.example.com:8443", "h.example.com", 8443],
  ["h.example.com:8443", "https://h.example.com:8443", "h.example.com", 8443],
  [
    "https://adb-1.azuredatabricks.net/?o=1234#setting/account",
    "https://adb-1.azuredatabricks.net",
    "adb-1.azuredatabricks.net",
    443
  ],
  ["https://h.example.com/sql/1.0/warehouses/abc//", "https://h.example.com", "h.example.com", 443],
  ["  https://h.example.com \n", "https://h.example.com", "h.example.com", 443],
  ["https://127.0.0.1:8443", "https://127.0.0.1:8443", "127.0.0.1", 8443],
  ["http://127.0.0.1:8080", "http://127.0.0.1:8080", "127.0.0.1", 8080],
  ["http://127.8.9.10:1234/x", "http://127.8.9.10:1234", "127.8.9.10", 1234],
  ["http://localhost:3000", "http://localhost:3000", "localhost", 3000],
  ["http://[::1]:3000", "http://[::1]:3000", "[::1]", 3000],
  ["http://localhost", "http://localhost", "localhost", 80]
]

const bad: ReadonlyArray<readonly [input: string, mentions: string]> = [
  ["", "is empty"],
  ["   ", "is empty"],
  ["https://", "has no host name"],
  ["https:///sql", "has no host name"],
  ["ftp://h.example.com", "ftp://"],
  ["file:///etc/passwd", "file://"],
  ["ws://h.example.com", "ws://"],
  ["http://h.example.com", "not loopback"],
  ["http://10.0.0.1", "not loopback"],
  ["http://127.0.0.1.evil.example", "not loopback"],
  ["http://localhost.evil.example", "not loopback"],
  ["https://my host.example.com", "white space"],
  ["my host", "white space"],
  ["https://user:pw@h.example.com", "must not contain credentials"],
  ["https://h.example.com:99999", "not a valid URL"],
  ["https://h.example.com:0", "port 0"],
  ["https://h.example.com:abc", "not a valid URL"],
  ["https://[::1", "not a valid URL"],
  ["javascript:alert(1)", "not a valid URL"]
]

describe("WorkspaceHost.parse", () => {
  for (const [input, url, hostname, port] of good) {
    it(`accepts ${JSON.stringify(input)}`, () => {
      const host = Either.getOrThrow(WorkspaceHost.parse(input))
      assert.deepStrictEqual(host, { url, hostname, port, secure: url.startsWith("https:") })
    })
  }

  for (const [input, mentions] of bad) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      const error = Either.getLeft(WorkspaceHost.parse(input, { setting: "host" }))
      assert.isTrue(error._tag === "Some", `accepted ${JSON.stringify(input)}`)
      if (error._tag !== "Some") return
      assert.strictEqual(error.value._tag, "ConfigurationError")
      assert.strictEqual(error.value.setting, "host")
      assert.include(error.value.message, mentions)
      assert.isString(error.value.hint)
    })
  }

  it("names DATABRICKS_HOST by default and never echoes credentials", () => {
    const error = Either.getLeft(WorkspaceHost.parse("https://token:dapi-secret@h.example.com"))
    assert.isTrue(error._tag === "Some")
    if (error._tag !== "Some") return
    assert.strictEqual(error.value.setting, "DATABRICKS_HOST")
    assert.notInclude(error.value.message, "dapi-secret")
    assert.notInclude(JSON.stringify(error.value), "dapi-secret")
  })

  it("shows the rejected value so the user can see what was read", () => {
    const error = Either.getLeft(WorkspaceHost.parse("ftp://files.example.com"))
    assert.isTrue(error._tag === "Some" && error.value.message.includes("\"ftp://files.example.com\""))
  })

  it.effect("make fails in the error channel", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(WorkspaceHost.make("http://example.com"))
      assert.strictEqual(error._tag, "ConfigurationError")
      const ok = yield* WorkspaceHost.make("example.com")
      assert.strictEqual(ok.url, "https://example.com")
    }))
})
