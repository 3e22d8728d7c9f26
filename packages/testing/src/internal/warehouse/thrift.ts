import { thrift as generated } from "@databricks/sql"
import * as Thrift from "thrift"

/**
 * The driver's own generated TCLIService code (its Processor and types), and
 * the thrift runtime it was generated for. pnpm resolves `thrift` to the same
 * copy the driver loads, so both sides speak byte-identical Thrift.
 */
export const service: any = generated.TCLIService
export const types: any = generated.TCLIService_types
export const { TBinaryProtocol, TBufferedTransport } = Thrift as any
export const Int64: any = (Thrift as any).Int64
