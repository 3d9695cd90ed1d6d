public import Foundation

/// Opens the operations store a URL names: `ballast serve`'s `store:` (DESIGN.md "Service configuration").
public enum OperationsStores {
    /// `sqlite://PATH` (`sqlite:///var/lib/ballast/ballast.db`: an absolute path after the scheme's `//`) opens a
    /// SQLite store in that file; `postgres://…` or `postgresql://…` a PostgreSQL store (see
    /// `PostgresOperationsStore`). Anything else, or a malformed URL, is refused with `.invalidLocation` naming it
    /// (without its password).
    public static func open(url: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        async throws(StoreError) -> any ServiceRecordsStore
    {
        let lowercased = url.lowercased()
        if lowercased.hasPrefix("sqlite://") {
            let path = String(url.dropFirst("sqlite://".count))
            guard !path.isEmpty, !path.hasSuffix("/") else {
                throw StoreError(
                    .invalidLocation, "the store URL \(url) is not valid: it names no file (sqlite:///PATH)")
            }
            return try SQLiteOperationsStore(file: (path as NSString).expandingTildeInPath)
        }
        if lowercased.hasPrefix("postgres://") || lowercased.hasPrefix("postgresql://") {
            return try await PostgresOperationsStore.open(url: url, environment: environment)
        }
        throw StoreError(
            .invalidLocation,
            "the store URL \(PostgresLocation.redacted(url)) is not valid: expected sqlite:///PATH or "
                + "postgres://USER@HOST:PORT/DATABASE")
    }
}
