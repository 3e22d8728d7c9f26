/**
 * The system's chromium (Debian's `chromium` package, found by `find.ts`), driven by playwright-core, which
 * downloads no browser of its own.
 */
import { Effect, type Scope } from "effect"
import * as Crypto from "node:crypto"
import { type Browser, chromium, type Page } from "playwright-core"

/** The base64 SHA-256 of a certificate's public key, as `--ignore-certificate-errors-spki-list` takes it. */
const spki = (certPem: string) =>
  Crypto.createHash("sha256")
    .update(new Crypto.X509Certificate(certPem).publicKey.export({ type: "spki", format: "der" }))
    .digest("base64")

/**
 * A headless browser for the scope that trusts the emulator's certificate and no other unknown one (by its key,
 * not by ignoring certificate errors). As root, chromium's sandbox cannot start, so it runs without it.
 */
export const launch = (path: string, trust: { readonly certPem: string }): Effect.Effect<Browser, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() =>
      chromium.launch({
        executablePath: path,
        headless: true,
        args: [
          `--ignore-certificate-errors-spki-list=${spki(trust.certPem)}`,
          ...(process.getuid?.() === 0 ? ["--no-sandbox"] : [])
        ],
        timeout: 30_000
      })
    ),
    (browser) => Effect.promise(() => browser.close())
  )

/** A page in a fresh browser context (no cookies or cache from another test). */
export const page = (browser: Browser) =>
  Effect.gen(function*() {
    const context = yield* Effect.acquireRelease(
      Effect.promise(() => browser.newContext()),
      (context) => Effect.promise(() => context.close())
    )
    const page: Page = yield* Effect.promise(() => context.newPage())
    page.setDefaultTimeout(15_000)
    return page
  })

/** A playwright call as an Effect: its failure (a timeout, a missing element) fails the test with its message. */
export const run = <A>(f: () => Promise<A>): Effect.Effect<A, Error> =>
  Effect.tryPromise({ try: f, catch: (error) => error instanceof Error ? error : new Error(String(error)) })
