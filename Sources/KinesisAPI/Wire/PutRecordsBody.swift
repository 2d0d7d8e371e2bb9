import NIOCore

/// The PutRecords request body, written straight into a buffer: the hot path of every producer.
///
/// Field order and spacing match what botocore sends compacted:
/// `{"Records":[{"Data":"…","PartitionKey":"…","ExplicitHashKey":"…"}],"StreamName":"…","StreamARN":"…"}`.
public enum PutRecordsBody {
    /// The exact body size, so the buffer is allocated once.
    public static func encodedSize(of entries: some Collection<PutRecordsEntry>, stream: StreamIdentifier) -> Int {
        var size = 14 + max(0, entries.count - 1)  // {"Records":[ … ]} and the commas between entries
        for entry in entries {
            size += 27 + (entry.data.count + 2) / 3 * 4 + jsonStringLength(entry.partitionKey)
            if let key = entry.explicitHashKey { size += 19 + jsonStringLength(key) }
        }
        if let name = stream.name { size += 14 + jsonStringLength(name) }
        if let arn = stream.arn { size += 13 + jsonStringLength(arn) }
        return size
    }

    /// The length of `text` as a JSON string literal, quotes included.
    static func jsonStringLength(_ text: String) -> Int {
        var length = 2
        for byte in text.utf8 {
            switch byte {
            case 0x22, 0x5C, 0x0A, 0x0D, 0x09, 0x08, 0x0C: length += 2
            case ..<0x20: length += 6
            default: length += 1
            }
        }
        return length
    }

    /// Appends the body for `entries` to `buffer`.
    public static func write(_ entries: some Collection<PutRecordsEntry>, stream: StreamIdentifier, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("{\"Records\":[")
        var first = true
        for entry in entries {
            buffer.writeStaticString(first ? "{" : ",{")
            first = false
            writeFields(of: entry, into: &buffer)
            buffer.writeInteger(UInt8(ascii: "}"))
        }
        buffer.writeInteger(UInt8(ascii: "]"))
        if let name = stream.name {
            buffer.writeStaticString(",\"StreamName\":")
            buffer.writeJSONString(name)
        }
        if let arn = stream.arn {
            buffer.writeStaticString(",\"StreamARN\":")
            buffer.writeJSONString(arn)
        }
        buffer.writeInteger(UInt8(ascii: "}"))
    }

    /// Writes `"Data":"…","PartitionKey":"…"[,"ExplicitHashKey":"…"]`: a record's members in PutRecords and PutRecord.
    static func writeFields(of entry: PutRecordsEntry, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("\"Data\":\"")
        buffer.writeBase64(entry.data)
        buffer.writeStaticString("\",\"PartitionKey\":")
        buffer.writeJSONString(entry.partitionKey)
        if let key = entry.explicitHashKey {
            buffer.writeStaticString(",\"ExplicitHashKey\":")
            buffer.writeJSONString(key)
        }
    }

    /// A new buffer holding the body for `entries`.
    public static func encode(
        _ entries: some Collection<PutRecordsEntry>,
        stream: StreamIdentifier,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: encodedSize(of: entries, stream: stream))
        write(entries, stream: stream, into: &buffer)
        return buffer
    }
}
