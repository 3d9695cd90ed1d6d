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
            let accepted = Atomic<Int>(0)
            // A thread of its own keeps connecting until the simulator is stopped, the last 64 sockets left open (a
            // bounded number: the suite's other tests share this process's file descriptors).
            let connector = Thread {
                var open: [Int32] = []
                while connecting.load(ordering: .relaxed) {
                    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                    guard fd >= 0 else { break }
                    var address = sockaddr_in()
                    address.sin_family = sa_family_t(AF_INET)
                    address.sin_port = in_port_t(UInt16(port).bigEndian)
                    address.sin_addr.s_addr = inet_addr("127.0.0.1")
                    let connected = withUnsafePointer(to: &address) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                        }
                    }
                    guard connected else {
                        close(fd)
                        continue
                    }
                    accepted.add(1, ordering: .relaxed)
                    open.append(fd)
                    if open.count > 64 { close(open.removeFirst()) }
                }
                for fd in open { close(fd) }
            }
            connector.start()
            // Stop once the API has accepted some connections, so some are in flight when it goes.
            while accepted.load(ordering: .relaxed) < 20 { await Task.yield() }
            await sim.stop()
            connecting.store(false, ordering: .relaxed)
            // The failure this test looks for is the process trapping in `stop` (with `stop` cancelling the server
            // task, as before, it trapped in 3 runs of 3).
        }
    }
}
