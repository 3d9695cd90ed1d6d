import KafkaModel
import KafkaWireNIO
import NIOCore
import NIOEmbedded
import Testing

@testable import KafkaAdmin

@Suite struct FramingTests {
    @Test func framesSplitAcrossReadsAreReassembledWithoutTheirSizePrefix() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(KafkaFrameDecoder()))
        try channel.writeInbound(ByteBuffer(bytes: [0, 0, 0, 3, 1]))
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        try channel.writeInbound(ByteBuffer(bytes: [2, 3, 0, 0, 0, 1, 9]))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(bytes: [1, 2, 3]))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(bytes: [9]))
        _ = try channel.finish()
    }

    @Test func aNegativeFrameSizeIsAProtocolError() {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(KafkaFrameDecoder()))
        #expect(throws: KafkaFrameError.self) { try channel.writeInbound(ByteBuffer(bytes: [0xFF, 0, 0, 0])) }
    }

    @Test func anHTTPAnswerOnAKafkaPortIsRejectedAsOversized() {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(KafkaFrameDecoder()))
        #expect(throws: KafkaFrameError.self) { try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 400")) }
    }

    @Test func correlationIdsAreUniqueWhileInFlightAndWrap() {
        var map = CorrelationMap<String>()
        let a = map.register("a")
        let b = map.register("b")
        #expect(a != b)
        #expect(map.complete(a) == "a")
        #expect(map.complete(a) == nil)
        #expect(map.removeAll() == ["b"])
        #expect(map.count == 0)
    }

    @Test func responsesAreMatchedByCorrelationIdInAnyOrder() throws {
        let channel = EmbeddedChannel(handler: KafkaClientHandler(peer: "test:1"))
        let loop = channel.embeddedEventLoop
        let p1 = loop.makePromise(of: ByteBuffer.self)
        let p2 = loop.makePromise(of: ByteBuffer.self)
        let frame: [UInt8] = [0, 0, 0, 8, 0, 3, 0, 0, 0, 0, 0, 0]
        try channel.writeOutbound(OutboundRequest(frame: frame, apiName: "A", timeout: .seconds(5), promise: p1))
        try channel.writeOutbound(OutboundRequest(frame: frame, apiName: "B", timeout: .seconds(5), promise: p2))
        let w1 = try #require(try channel.readOutbound(as: ByteBuffer.self))
        let w2 = try #require(try channel.readOutbound(as: ByteBuffer.self))
        let id1 = try #require(w1.getInteger(at: 8, as: Int32.self))
        let id2 = try #require(w2.getInteger(at: 8, as: Int32.self))
        #expect(id1 != id2)
        var r2 = ByteBuffer()
        r2.writeInteger(id2)
        r2.writeInteger(UInt8(2))
        var r1 = ByteBuffer()
        r1.writeInteger(id1)
        r1.writeInteger(UInt8(1))
        try channel.writeInbound(r2)
        try channel.writeInbound(r1)
        #expect(try p1.futureResult.wait().getInteger(at: 4, as: UInt8.self) == 1)
        #expect(try p2.futureResult.wait().getInteger(at: 4, as: UInt8.self) == 2)
        _ = try channel.finish()
    }

    @Test func aRequestWithoutAnswerFailsAfterItsOwnTimeout() throws {
        let channel = EmbeddedChannel(handler: KafkaClientHandler(peer: "test:1"))
        let p = channel.embeddedEventLoop.makePromise(of: ByteBuffer.self)
        let frame: [UInt8] = [0, 0, 0, 8, 0, 3, 0, 0, 0, 0, 0, 0]
        try channel.writeOutbound(OutboundRequest(frame: frame, apiName: "Metadata", timeout: .seconds(2), promise: p))
        channel.embeddedEventLoop.advanceTime(by: .seconds(3))
        #expect {
            try p.futureResult.wait()
        } throws: { error in
            let e = error as? KafkaAdminError
            return e?.code == .timedOut && e?.message.contains("Metadata to test:1") == true
        }
        _ = try channel.finish()
    }

    @Test func everythingInFlightFailsWhenTheConnectionCloses() throws {
        let channel = EmbeddedChannel(handler: KafkaClientHandler(peer: "test:1"))
        try channel.connect(to: .init(ipAddress: "127.0.0.1", port: 1)).wait()
        let p = channel.embeddedEventLoop.makePromise(of: ByteBuffer.self)
        let frame: [UInt8] = [0, 0, 0, 8, 0, 3, 0, 0, 0, 0, 0, 0]
        try channel.writeOutbound(OutboundRequest(frame: frame, apiName: "Metadata", timeout: .seconds(2), promise: p))
        _ = try channel.finish()
        #expect {
            try p.futureResult.wait()
        } throws: { ($0 as? KafkaAdminError)?.code == .connectionClosed }
    }
}
