import Testing

@testable import KafkaWire

@Suite struct PrimitiveTests {
    private func written(_ body: (inout WireWriter) throws -> Void) throws -> [UInt8] {
        var w = WireWriter()
        try body(&w)
        return w.bytes
    }

    @Test func unsignedVarintsUseSevenBitGroupsLeastSignificantFirst() throws {
        #expect(try written { $0.write(unsignedVarint: 0) } == [0x00])
        #expect(try written { $0.write(unsignedVarint: 127) } == [0x7f])
        #expect(try written { $0.write(unsignedVarint: 128) } == [0x80, 0x01])
        #expect(try written { $0.write(unsignedVarint: 300) } == [0xac, 0x02])
        #expect(try written { $0.write(unsignedVarint: UInt32.max) } == [0xff, 0xff, 0xff, 0xff, 0x0f])
        var r = WireReader([0xac, 0x02, 0xff, 0xff, 0xff, 0xff, 0x0f])
        #expect(try r.readUnsignedVarint() == 300)
        #expect(try r.readUnsignedVarint() == UInt32.max)
        #expect(r.isAtEnd)
    }

    @Test func signedVarintsAreZigZagEncoded() throws {
        #expect(try written { $0.write(varint: 0) } == [0x00])
        #expect(try written { $0.write(varint: -1) } == [0x01])
        #expect(try written { $0.write(varint: 1) } == [0x02])
        #expect(try written { $0.write(varint: -64) } == [0x7f])
        #expect(try written { $0.write(varint: 64) } == [0x80, 0x01])
        #expect(try written { $0.write(varint: Int32.min) } == [0xff, 0xff, 0xff, 0xff, 0x0f])
        #expect(try written { $0.write(varlong: -1) } == [0x01])
        #expect(
            try written { $0.write(varlong: Int64.min) } == [
                0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
            ])
        for v: Int64 in [0, 1, -1, 1234567890123, -1234567890123, .max, .min] {
            var r = WireReader(try written { $0.write(varlong: v) })
            #expect(try r.readVarlong() == v)
        }
        for v: Int32 in [0, 1, -1, 150, -150, .max, .min] {
            var r = WireReader(try written { $0.write(varint: v) })
            #expect(try r.readVarint() == v)
        }
    }

    @Test func overlongVarintsAreRejected() {
        var r = WireReader([0xff, 0xff, 0xff, 0xff, 0x1f])
        #expect(throws: WireError.self) { try r.readUnsignedVarint() }
        var r2 = WireReader([0x80, 0x80])
        #expect(throws: WireError.self) { try r2.readUnsignedVarint() }
        var r3 = WireReader([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02])
        #expect(throws: WireError.self) { try r3.readVarlong() }
    }

    @Test func fixedWidthIntegersAreBigEndian() throws {
        let bytes = try written {
            $0.write(int8: -2)
            $0.write(int16: 0x0102)
            $0.write(int32: -2)
            $0.write(int64: 0x0102_0304_0506_0708)
            $0.write(uint16: 0xfffe)
            $0.write(uint32: 0xdead_beef)
            $0.write(float64: 1.5)
            $0.write(bool: true)
        }
        #expect(
            bytes == [
                0xfe, 0x01, 0x02, 0xff, 0xff, 0xff, 0xfe, 1, 2, 3, 4, 5, 6, 7, 8, 0xff, 0xfe, 0xde, 0xad, 0xbe, 0xef,
                0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 1,
            ])
        var r = WireReader(bytes)
        #expect(try r.readInt8() == -2)
        #expect(try r.readInt16() == 0x0102)
        #expect(try r.readInt32() == -2)
        #expect(try r.readInt64() == 0x0102_0304_0506_0708)
        #expect(try r.readUInt16() == 0xfffe)
        #expect(try r.readUInt32() == 0xdead_beef)
        #expect(try r.readFloat64() == 1.5)
        #expect(try r.readBool())
        #expect(r.isAtEnd)
    }

    @Test func classicAndCompactStringsAndBytes() throws {
        #expect(try written { try $0.write(string: "abc", compact: false) } == [0, 3, 0x61, 0x62, 0x63])
        #expect(try written { try $0.write(string: "abc", compact: true) } == [4, 0x61, 0x62, 0x63])
        #expect(try written { try $0.write(string: "", compact: true) } == [1])
        #expect(try written { try $0.write(nullableString: nil, compact: true) } == [0])
        #expect(try written { try $0.write(nullableString: nil, compact: false) } == [0xff, 0xff])
        #expect(try written { $0.write(bytes: [9], compact: false) } == [0, 0, 0, 1, 9])
        #expect(try written { $0.write(bytes: [9], compact: true) } == [2, 9])
        #expect(try written { $0.write(nullableBytes: nil, compact: false) } == [0xff, 0xff, 0xff, 0xff])
        #expect(try written { $0.write(arrayLength: 2, compact: true) } == [3])
        #expect(try written { $0.write(arrayLength: nil, compact: false) } == [0xff, 0xff, 0xff, 0xff])
        var r = WireReader([4, 0x61, 0x62, 0x63, 0, 0, 3, 0x78, 0x79, 0x7a, 0xff, 0xff, 2, 9])
        #expect(try r.readString(compact: true) == "abc")
        #expect(try r.readNullableString(compact: true) == nil)
        #expect(try r.readString(compact: false) == "xyz")
        #expect(try r.readNullableString(compact: false) == nil)
        #expect(try r.readBytes(compact: true) == [9])
        #expect(r.isAtEnd)
    }

    @Test func aClassicStringLongerThanInt16IsAnError() {
        var w = WireWriter()
        #expect(throws: WireError.self) {
            try w.write(string: String(repeating: "x", count: 40000), compact: false, "Test.name")
        }
    }

    @Test func taggedFieldSectionsAreCountedSortedAndSized() throws {
        let bytes = try written {
            $0.write(taggedFields: [TaggedField(tag: 5, data: [0xaa, 0xbb]), TaggedField(tag: 0, data: [])])
        }
        #expect(bytes == [2, 0, 0, 5, 2, 0xaa, 0xbb])
        var r = WireReader(bytes)
        #expect(try r.readTaggedFields() == [TaggedField(tag: 0, data: []), TaggedField(tag: 5, data: [0xaa, 0xbb])])
        #expect(try written { $0.write(taggedFields: []) } == [0])
    }

    @Test func readerErrorsNameTheFieldAndNeverTrap() {
        var r = WireReader([0, 0, 1])
        let error = #expect(throws: WireError.self) { try r.readInt32("Thing.count") }
        #expect(error?.message.contains("Thing.count") == true)
        var neg = WireReader([0xff, 0xfe])
        #expect(throws: WireError.self) { try neg.readString(compact: false) }
        var tooLong = WireReader([0, 9, 1])
        #expect(throws: WireError.self) { try tooLong.readString(compact: false) }
        var hugeArray = WireReader([0x7f, 0xff, 0xff, 0xff])
        #expect(throws: WireError.self) { try hugeArray.readArrayLength(compact: false, "A") }
        var badUTF8 = WireReader([2, 0xff])
        #expect(throws: WireError.self) { try badUTF8.readString(compact: true) }
        var nullString = WireReader([0])
        #expect(throws: WireError.self) { try nullString.readString(compact: true) }
        var empty = WireReader([])
        #expect(throws: WireError.self) { try empty.readBool() }
    }

    @Test func uuidsPrintAsKafkaDoes() throws {
        // Kafka's Uuid.toString() of (1, 2) is URL-safe base64 of the 16 big-endian bytes.
        let u = KafkaUUID(high: 1, low: 2)
        #expect(u.description == "AAAAAAAAAAEAAAAAAAAAAg")
        #expect(KafkaUUID("AAAAAAAAAAEAAAAAAAAAAg") == u)
        let random = KafkaUUID(high: 0xfedc_ba98_7654_3210, low: 0x0f1e_2d3c_4b5a_6978)
        #expect(KafkaUUID(random.description) == random)
        #expect(KafkaUUID(bytes: random.bytes) == random)
        #expect(KafkaUUID("not a uuid") == nil)
        #expect(try written { $0.write(uuid: u) } == [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2])
    }
}
