import CRdKafka
import Foundation
import Synchronization

/// A demo application's own thread (librdkafka's calls block): started once; `stop()` asks its loop to end and
/// waits until it has returned.
final class ApplicationThread: Sendable {
    let name: String
    let stopping = Atomic<Bool>(false)
    let started = Atomic<Bool>(false)
    let done = Atomic<Bool>(false)
    let finished = Mutex<CheckedContinuation<Void, Never>?>(nil)

    init(name: String) { self.name = name }

    /// Whether `stop()` was called: the loop checks it and returns.
    var isStopping: Bool { stopping.load(ordering: .sequentiallyConsistent) }

    func start(_ loop: @escaping @Sendable () -> Void) {
        guard !started.exchange(true, ordering: .sequentiallyConsistent) else { return }
        let thread = Thread { [self] in
            loop()
            done.store(true, ordering: .sequentiallyConsistent)
            finished.withLock { $0.take() }?.resume()
        }
        thread.name = name
        thread.start()
    }

    func stop() async {
        stopping.store(true, ordering: .sequentiallyConsistent)
        guard started.load(ordering: .sequentiallyConsistent) else { return }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            finished.withLock { $0 = c }
            if done.load(ordering: .sequentiallyConsistent) { finished.withLock { $0.take() }?.resume() }
        }
    }
}

/// The demo messages' value: the sequence number, then padding.
enum DemoMessage {
    static func value(sequence: Int, padding: String) -> String { "\(sequence) \(padding)" }

    static func sequence(_ value: String) -> Int? {
        Int(value.prefix { $0 != " " })
    }

    /// A delivered or consumed message's key and sequence number; nil for a message that is not the demo's.
    static func keyAndSequence(_ m: rd_kafka_message_t) -> (key: String, sequence: Int)? {
        guard let k = m.key, let v = m.payload else { return nil }
        let key = String(decoding: UnsafeRawBufferPointer(start: k, count: m.key_len), as: UTF8.self)
        let value = String(decoding: UnsafeRawBufferPointer(start: v, count: m.len), as: UTF8.self)
        return sequence(value).map { (key, $0) }
    }
}

public struct DemoApplicationError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A librdkafka configuration being built; `RdHandle.make` takes it over.
final class RdConf {
    var pointer: OpaquePointer
    var owned = true

    init(_ properties: [(String, String)]) throws(DemoApplicationError) {
        guard let conf = rd_kafka_conf_new() else { throw DemoApplicationError("librdkafka could not allocate") }
        pointer = conf
        ballast_rd_kafka_conf_silence(conf)
        for (key, value) in properties {
            var errstr = [CChar](repeating: 0, count: 512)
            if ballast_rd_kafka_conf_set(conf, key, value, &errstr, errstr.count) != 0 {
                rd_kafka_conf_destroy(conf)
                owned = false
                throw DemoApplicationError(
                    "librdkafka refused \(key)=\(value): \(String(decoding: errstr.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))"
                )
            }
        }
    }

    deinit { if owned { rd_kafka_conf_destroy(pointer) } }
}

/// One librdkafka object (a client or a topic handle), destroyed with its owner. librdkafka's handles are
/// thread-safe, hence `@unchecked Sendable`.
final class RdHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    let destroy: (OpaquePointer) -> Void

    init(pointer: OpaquePointer, destroy: @escaping (OpaquePointer) -> Void) {
        self.pointer = pointer
        self.destroy = destroy
    }

    deinit { destroy(pointer) }

    static func make(_ type: rd_kafka_type_t, _ conf: RdConf) throws(DemoApplicationError) -> RdHandle {
        var errstr = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(type, conf.pointer, &errstr, errstr.count) else {
            throw DemoApplicationError(
                "librdkafka could not make a client: \(String(decoding: errstr.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))"
            )
        }
        conf.owned = false  // rd_kafka_new took it
        return RdHandle(pointer: rk, destroy: rd_kafka_destroy)
    }
}
