/// What kind of failure an error is, whatever module threw it: the CLI maps it to an exit code and an HTTP API
/// to a status, so both tell "unreachable" from "busy" from "refused for safety" from "bad input". Each error
/// type keeps its own precise `code`; `category` groups the codes.
public enum ErrorCategory: String, Sendable, Hashable, Codable, CaseIterable {
    /// The request or its input is wrong (a flag, a file, a body): exit 2, HTTP 400.
    case badInput
    /// Something asked for does not exist (an operation, a node no agent manages): HTTP 404.
    case notFound
    /// A cluster, agent or store could not be reached or did not answer: HTTP 503.
    case unreachable
    /// Another operation holds what this one needs (a node restarting, a cluster locked): HTTP 409.
    case busy
    /// Ballast stopped because going on could lower a partition below its min ISR or lose the quorum: HTTP 409.
    case refusedForSafety
    /// It ran and failed (a restart that failed, a node that did not come back, a timeout): HTTP 500.
    case failed
}

/// An error that says which `ErrorCategory` it is in.
public protocol CategorizedError: Error {
    var category: ErrorCategory { get }
}

extension ErrorCategory {
    /// DESIGN.md's exit codes: 2 bad usage or input, 1 failed or refused for safety.
    public var exitCode: Int32 { self == .badInput ? 2 : 1 }
}
