extension StringProtocol {
    /// Without leading and trailing white space (config values and keys, flag lists, versions).
    public func trimmingWhitespace() -> String {
        let head = drop(while: \.isWhitespace)
        return String(head.dropLast(head.reversed().prefix(while: \.isWhitespace).count))
    }
}
