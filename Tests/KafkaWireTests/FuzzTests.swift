import Testing

@testable import KafkaWire

/// SplitMix64: small, fast, seeded, so a failure can be replayed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct FuzzTests {
    /// Decodes `body`; success or a WireError are both fine, a crash is not. Returns whether it decoded.
    @discardableResult
    private func tryDecode<M: KafkaMessage>(_ type: M.Type, _ body: [UInt8], version: Int16) -> Bool {
        do {
            _ = try M(decoding: body, version: version)
            return true
        } catch {
            #expect(!error.message.isEmpty)
            return false
        }
    }

    private func fuzz<M: KafkaMessage>(_ type: M.Type, rng: inout SeededRandom) -> (cases: Int, decoded: Int) {
        var cases = 0
        var decoded = 0
        for version in M.validVersions {
            guard let valid = try? Samples.sample(M.self, version: version).encoded(version: version) else {
                Issue.record("\(M.self) v\(version): sample does not encode")
                continue
            }
            // Every truncation.
            for n in 0..<valid.count {
                if tryDecode(M.self, Array(valid.prefix(n)), version: version) { decoded += 1 }
                cases += 1
            }
            // Bit flips, one to four at a time (ApiVersionsRequest v0-2 has an empty body: nothing to flip).
            for _ in 0..<(valid.isEmpty ? 0 : 64) {
                var b = valid
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    let i = Int.random(in: 0..<b.count, using: &rng)
                    b[i] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
                }
                if tryDecode(M.self, b, version: version) { decoded += 1 }
                cases += 1
            }
            // Random bytes, biased toward small values so lengths and counts look plausible.
            for _ in 0..<32 {
                let n = Int.random(in: 0..<200, using: &rng)
                let b = (0..<n).map { _ in
                    Bool.random(using: &rng)
                        ? UInt8.random(in: 0...3, using: &rng) : UInt8.random(in: 0...255, using: &rng)
                }
                if tryDecode(M.self, b, version: version) { decoded += 1 }
                cases += 1
            }
            // Random insertions and deletions.
            for _ in 0..<16 {
                var b = valid
                let i = Int.random(in: 0...b.count, using: &rng)
                if Bool.random(using: &rng) || b.isEmpty {
                    b.insert(UInt8.random(in: 0...255, using: &rng), at: i)
                } else {
                    b.remove(at: min(i, b.count - 1))
                }
                if tryDecode(M.self, b, version: version) { decoded += 1 }
                cases += 1
            }
        }
        return (cases, decoded)
    }

    @Test func corruptedFramesOfEveryMessageThrowAndNeverCrash() {
        var rng = SeededRandom(seed: 0xBA11A57)
        let clock = ContinuousClock()
        var cases = 0
        let elapsed = clock.measure {
            for type in Samples.all {
                cases += fuzz(type, rng: &rng).cases
            }
        }
        #expect(cases > 20_000)
        // Generous bound for a debug build on a shared, loaded 2-core machine (it takes a few seconds when quiet); a
        // hang or blow-up would be far slower.
        #expect(elapsed < .seconds(300), "fuzzing \(cases) inputs took \(elapsed)")
    }

    @Test func corruptedResponseFramesThroughKafkaFrameThrow() throws {
        var rng = SeededRandom(seed: 42)
        let frame = try KafkaFrame.response(
            Samples.sample(MetadataResponse.self, version: 12), version: 12, correlationId: 77)
        let body = Array(frame.dropFirst(4))
        #expect(try KafkaFrame.decodeResponse(MetadataResponse.self, version: 12, body: body).correlationId == 77)
        for _ in 0..<2000 {
            var b = body
            b[Int.random(in: 0..<b.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            b = Array(b.prefix(Int.random(in: 0...b.count, using: &rng)))
            _ = try? KafkaFrame.decodeResponse(MetadataResponse.self, version: 12, body: b)
            _ = try? KafkaFrame.decodeRequestHeader(b)
            _ = try? KafkaFrame.nextFrame(in: b, maxSize: 1 << 20)
            _ = try? RecordBatchHeader.parse(b)
        }
    }

    @Test func hugeDeclaredLengthsFailFastWithoutAllocating() {
        // A compact array claiming 2^32-2 elements, a classic one claiming 2^31-1, a string claiming 32767 bytes.
        let hostile: [[UInt8]] = [
            [0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f],
            [0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff],
            [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0x7f, 0xff],
        ]
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for b in hostile {
                for version in MetadataResponse.validVersions {
                    #expect(throws: WireError.self) { try MetadataResponse(decoding: b, version: version) }
                }
            }
        }
        // Allocating what the lengths claim would take minutes (or fail); failing fast takes microseconds. The bound
        // leaves a loaded machine ample room.
        #expect(elapsed < .seconds(30))
    }
}
