import type { RecentRequest, Stats as StatsSnapshot } from "../../Emulator.js"

const recentLimit = 200

const bump = (counts: Record<string, number>, key: string) => {
  counts[key] = (counts[key] ?? 0) + 1
}

/** Counters the tests and the benchmarks read. Nothing here ever holds a secret. */
export class Stats {
  private tokenRequests: Record<string, number> = {}
  private exchanges: Record<string, number> = {}
  private requests: Record<string, number> = {}
  private faultsInjected: Record<string, number> = {}
  private recent: Array<RecentRequest> = []

  tokenRequest(grantType: string): void {
    bump(this.tokenRequests, grantType)
  }

  exchange(subjectTokenType: string): void {
    bump(this.exchanges, subjectTokenType)
  }

  request(endpoint: string): void {
    bump(this.requests, endpoint)
  }

  faultInjected(endpoint: string): void {
    bump(this.faultsInjected, endpoint)
  }

  record(entry: RecentRequest): void {
    this.recent.push(entry)
    if (this.recent.length > recentLimit) this.recent.shift()
  }

  snapshot(): Omit<
    StatsSnapshot,
    "rpc" | "openSessions" | "openOperations" | "sessions" | "statements" | "cloudFetch" | "federation"
  > {
    return {
      tokenRequests: { ...this.tokenRequests },
      exchanges: { ...this.exchanges },
      requests: { ...this.requests },
      faultsInjected: { ...this.faultsInjected },
      recentRequests: [...this.recent]
    }
  }

  reset(): void {
    this.tokenRequests = {}
    this.exchanges = {}
    this.requests = {}
    this.faultsInjected = {}
    this.recent = []
  }
}
