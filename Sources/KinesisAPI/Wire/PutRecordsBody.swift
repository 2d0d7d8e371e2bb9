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
            writeFields(of: entries[index], into: &buffer, opening: first ? "{" : ",{", closing: "}")
            first = false
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

    /// Writes `opening"Data":"…","PartitionKey":"…"[,"ExplicitHashKey":"…"]closing`: a record's members in
    /// PutRecords and PutRecord, in one write into the buffer (a write per piece costs more than the copying).
    @inlinable
    static func writeFields(
        of entry: some PutRecordsEntryFields,
        into buffer: inout ByteBuffer,
        opening: StaticString = "",
        closing: StaticString = ""
    ) {
        let data = entry.data
        let key = entry.partitionKey
        let hashKey = entry.explicitHashKey
        let dataLength = (data.count + 2) / 3 * 4
        let keyLength = JSONEscaping.literalLength(key)
        let hashKeyLength = hashKey.map(JSONEscaping.literalLength) ?? 0
        let length = opening.utf8CodeUnitCount + 25 + dataLength + keyLength + (hashKey == nil ? 0 : 19 + hashKeyLength)
            + closing.utf8CodeUnitCount
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { output in
            var at = 0
            func put(_ text: StaticString) {
                UnsafeMutableRawBufferPointer(rebasing: output[at...])
                    .copyMemory(from: UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
                at += text.utf8CodeUnitCount
            }
            put(opening)
            put("\"Data\":\"")
            data.withUnsafeBufferPointer { Base64Encoding.encode($0, into: UnsafeMutableRawBufferPointer(rebasing: output[at...])) }
            at += dataLength
            put("\",\"PartitionKey\":")
            JSONEscaping.write(key, literalLength: keyLength, into: UnsafeMutableRawBufferPointer(rebasing: output[at...]))
            at += keyLength
            if let hashKey {
                put(",\"ExplicitHashKey\":")
                JSONEscaping.write(hashKey, literalLength: hashKeyLength, into: UnsafeMutableRawBufferPointer(rebasing: output[at...]))
                at += hashKeyLength
            }
            put(closing)
            return length
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
