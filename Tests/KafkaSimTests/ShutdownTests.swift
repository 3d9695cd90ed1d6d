import Foundation
import KafkaSim
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Stopping a simulator while clients are still connecting to its control API. A cancelled Hummingbird server could
/// strand a connection it had just accepted, and the process trapped ("Deinited NIOAsyncWriter without calling
/// finish()", apple/swift-nio#3481); stopping is a graceful shutdown, which serves or closes every accepted one.
@Suite struct ShutdownTests {
    @Test func aSimulatorStoppedWhileClientsConnectEndsWithoutTrapping() async throws {
        var topology = SimTopology()
        topology.brokers = 3
        topology.racks = 3
        for _ in 0..<15 {
            let sim = try await RunningSim.start(try topology.build())
            let port = sim.controlPort
            let connecting = Atomic<Bool>(true)
            let opened = Mutex<[Int32]>([])
            // A thread of its own keeps connecting (and leaves the sockets open) until the simulator is stopped.
            let connector = Thread {
                while connecting.load(ordering: .relaxed) {
                    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                    var address = sockaddr_in()
                    address.sin_family = sa_family_t(AF_INET)
                    address.sin_port = in_port_t(UInt16(port).bigEndian)
                    address.sin_addr.s_addr = inet_addr("127.0.0.1")
                    _ = withUnsafePointer(to: &address) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                        }
                    }
                    opened.withLock { $0.append(fd) }
                }
            }
            connector.start()
            // Stop once the API has accepted some connections, so some are in flight when it goes.
            while opened.withLock({ $0.count }) < 20 { await Task.yield() }
            await sim.stop()
            connecting.store(false, ordering: .relaxed)
            for fd in opened.withLock({ $0 }) { close(fd) }
            // The failure this test looks for is the process trapping in `stop` (with `stop` cancelling the server
            // task, as before, it trapped in 3 runs of 3).
        }
    }
}
