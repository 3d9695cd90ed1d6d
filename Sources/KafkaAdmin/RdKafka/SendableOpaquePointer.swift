/// An `OpaquePointer` that may cross isolation domains. Only for librdkafka handles, which are thread-safe.
struct SendableOpaquePointer: @unchecked Sendable {
    let pointer: OpaquePointer
}
