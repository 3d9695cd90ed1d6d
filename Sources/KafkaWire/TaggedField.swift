/// One raw entry of a flexible struct's tagged-field section: a tag and its undecoded value bytes.
/// Decoders keep the tags they do not know so that re-encoding preserves them.
public struct TaggedField: Sendable, Equatable, Hashable {
    public var tag: UInt32
    public var data: [UInt8]

    public init(tag: UInt32, data: [UInt8]) {
        self.tag = tag
        self.data = data
    }
}
