import { redact } from "../Redaction.js"

/** Text from a CLI's stderr, without credentials. Kept for the CLI's callers; the rule is `Redaction.redact`. */
export const redactSecrets = (text: string, maxLength = 1000): string => redact(text, { maxLength })
