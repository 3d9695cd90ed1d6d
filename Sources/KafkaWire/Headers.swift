/// A request header. Version 1 carries a nullable client id; version 2 (flexible requests) adds a tagged-field
/// section; version 0 (ControlledShutdown v0 only) has no client id.
public struct RequestHeader: Sendable, Equatable {
    public var apiKey: Int16
    public var apiVersion: Int16
    public var correlationId: Int32
    public var clientId: String?
    /// The header's tagged fields (v2); none are defined by Kafka today.
    public var taggedFields: [TaggedField]

    public init(
        apiKey: Int16, apiVersion: Int16, correlationId: Int32, clientId: String?, taggedFields: [TaggedField] = []
    ) {
        self.apiKey = apiKey
        self.apiVersion = apiVersion
        self.correlationId = correlationId
        self.clientId = clientId
        self.taggedFields = taggedFields
    }

    /// 2 for flexible request versions, 0 for ControlledShutdown v0, else 1. Nil for an API key Kafka lacks.
    public static func headerVersion(apiKey: Int16, apiVersion: Int16) -> Int16? {
        guard let key = ApiKey(rawValue: apiKey) else { return nil }
        return headerVersion(apiKey: key, apiVersion: apiVersion)
    }

    public static func headerVersion(apiKey: ApiKey, apiVersion: Int16) -> Int16 {
        if apiKey == .controlledShutdown && apiVersion == 0 { return 0 }
        return apiKey.isFlexible(version: apiVersion) ? 2 : 1
    }

    public func encode(to writer: inout WireWriter, headerVersion: Int16) throws(WireError) {
        writer.write(int16: apiKey)
        writer.write(int16: apiVersion)
        writer.write(int32: correlationId)
        if headerVersion >= 1 {
            // The client id stays a classic (int16-length) string even in header v2.
            try writer.write(nullableString: clientId, compact: false, "RequestHeader.clientId")
        }
        if headerVersion >= 2 {
            writer.write(taggedFields: taggedFields)
        } else if !taggedFields.isEmpty {
            throw WireError("RequestHeader: tagged fields need header v2, not v\(headerVersion)")
        }
    }

    public init(from reader: inout WireReader, headerVersion: Int16) throws(WireError) {
        apiKey = try reader.readInt16("RequestHeader.apiKey")
        apiVersion = try reader.readInt16("RequestHeader.apiVersion")
        correlationId = try reader.readInt32("RequestHeader.correlationId")
        clientId = headerVersion >= 1 ? try reader.readNullableString(compact: false, "RequestHeader.clientId") : nil
        taggedFields = headerVersion >= 2 ? try reader.readTaggedFields("RequestHeader tagged fields") : []
    }
}

/// A response header: v0 is the correlation id, v1 (flexible responses) adds a tagged-field section.
public struct ResponseHeader: Sendable, Equatable {
    public var correlationId: Int32
    public var taggedFields: [TaggedField]

    public init(correlationId: Int32, taggedFields: [TaggedField] = []) {
        self.correlationId = correlationId
        self.taggedFields = taggedFields
    }

    /// 1 for flexible response versions, else 0. ApiVersions responses always use v0 so that a client can read
    /// the error code of a version the broker does not support.
    public static func headerVersion(apiKey: ApiKey, apiVersion: Int16) -> Int16 {
        if apiKey == .apiVersions { return 0 }
        return apiKey.isFlexible(version: apiVersion) ? 1 : 0
    }

    public func encode(to writer: inout WireWriter, headerVersion: Int16) throws(WireError) {
        writer.write(int32: correlationId)
        if headerVersion >= 1 {
            writer.write(taggedFields: taggedFields)
        } else if !taggedFields.isEmpty {
            throw WireError("ResponseHeader: tagged fields need header v1, not v\(headerVersion)")
        }
    }

    public init(from reader: inout WireReader, headerVersion: Int16) throws(WireError) {
        correlationId = try reader.readInt32("ResponseHeader.correlationId")
        taggedFields = headerVersion >= 1 ? try reader.readTaggedFields("ResponseHeader tagged fields") : []
    }
}
