import NIOCore

/// The PutRecords request body, written straight into a buffer: the hot path of every producer.
///
/// Field order and spacing match what botocore sends compacted:
/// `{"Records":[{"Data":"…","PartitionKey":"…","ExplicitHashKey":"…"}],"StreamName":"…","StreamARN":"…"}`.
public enum PutRecordsBody {
    /// The exact body size, so the buffer is allocated once.
    @inlinable
    public static func encodedSize(of entries: some Collection<some PutRecordsEntryFields>, stream: StreamIdentifier) -> Int {
        var size = 14 + max(0, entries.count - 1)  // {"Records":[ … ]} and the commas between entries
        for index in entries.indices {
            size += 27 + (entries[index].data.count + 2) / 3 * 4 + JSONEscaping.literalLength(entries[index].partitionKey)
            if let key = entries[index].explicitHashKey { size += 19 + JSONEscaping.literalLength(key) }
        }
        if let name = stream.name { size += 14 + JSONEscaping.literalLength(name) }
        if let arn = stream.arn { size += 13 + JSONEscaping.literalLength(arn) }
        return size
    }

    /// Appends the body for `entries` to `buffer`.
    @inlinable
    public static func write(_ entries: some Collection<some PutRecordsEntryFields>, stream: StreamIdentifier, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("{\"Records\":[")
        var first = true
        for index in entries.indices {
            buffer.writeStaticString(first ? "{" : ",{")
            first = false
            writeFields(of: entries[index], into: &buffer)
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
    @inlinable
    static func writeFields(of entry: some PutRecordsEntryFields, into buffer: inout ByteBuffer) {
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
    @inlinable
    public static func encode(
        _ entries: some Collection<some PutRecordsEntryFields>,
        stream: StreamIdentifier,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: encodedSize(of: entries, stream: stream))
        write(entries, stream: stream, into: &buffer)
        return buffer
    }
}
