import NIOCore

/// A PutRecords answer in the form the producer reads it: each entry is a few integers — where its sequence number
/// lies in the answer, which of the answer's distinct strings are its shard, error code and message — so reading
/// and handling 500 entries makes no String, no slice and no reference count per record.
///
/// ``PutRecordsResult`` is the public form (``result``); the two always say the same.
@usableFromInline
package struct PutRecordsOutcomes: Sendable {
    /// One entry, without references: 20 bytes.
    struct Entry {
        /// The sequence number's bytes in `answer` (or, with no answer, its index in `strings`).
        var sequenceStart: UInt32
        var sequenceLength: UInt32
        var shard: UInt32
        var errorCode: UInt32
        var errorMessage: UInt32

        /// `sequenceLength`, `shard`, `errorCode` or `errorMessage` when the entry has none.
        static let none = UInt32.max
    }

    /// The answer the sequence numbers are read from; `nil` when they are in `strings`.
    private let answer: ByteBuffer?
    private var entries: [Entry]
    /// The answer's distinct shard ids, error codes and messages (and, without an answer, its sequence numbers).
    private var strings: [String]
    /// Records that failed, as the answer counts them.
    package let failedRecordCount: Int
    let encryptionType: String?

    init(answer: ByteBuffer?, entries: [Entry], strings: [String], failedRecordCount: Int, encryptionType: String?) {
        self.answer = answer
        self.entries = entries
        self.strings = strings
        self.failedRecordCount = failedRecordCount
        self.encryptionType = encryptionType
    }

    /// The outcomes of a result built by hand or decoded the general way (tests, fakes, unusual answers); error
    /// texts capped as ``AnswerText`` says.
    package init(_ result: PutRecordsResult) {
        var strings: [String] = []
        var known: [String: UInt32] = [:]
        func index(_ text: String?) -> UInt32 {
            guard let text else { return Entry.none }
            if let index = known[text] { return index }
            strings.append(text)
            known[text] = UInt32(strings.count - 1)
            return UInt32(strings.count - 1)
        }
        var entries: [Entry] = []
        entries.reserveCapacity(result.records.count)
        for record in result.records {
            var entry = Entry(
                sequenceStart: 0,
                sequenceLength: Entry.none,
                shard: index(record.shardID),
                errorCode: index(AnswerText.capped(record.errorCode)),
                errorMessage: index(AnswerText.capped(record.errorMessage))
            )
            if let sequenceNumber = record.sequenceNumber {
                strings.append(sequenceNumber)
                entry.sequenceStart = UInt32(strings.count - 1)
                entry.sequenceLength = 0
            }
            entries.append(entry)
        }
        self.init(answer: nil, entries: entries, strings: strings, failedRecordCount: result.failedRecordCount, encryptionType: result.encryptionType)
    }

    /// Entries, one per request record.
    package var count: Int { entries.count }

    /// Whether the record at `position` was stored.
    package func succeeded(at position: Int) -> Bool {
        entries[position].errorCode == Entry.none && entries[position].sequenceLength != Entry.none
    }

    /// How many records failed, counted from the entries.
    package var failedEntryCount: Int {
        (0..<count).lazy.filter { !succeeded(at: $0) }.count
    }

    package func shardID(at position: Int) -> String? { string(entries[position].shard) }

    package func errorCode(at position: Int) -> String? { string(entries[position].errorCode) }

    package func errorMessage(at position: Int) -> String? { string(entries[position].errorMessage) }

    /// Made a String on each call: only a caller that reports it pays for it.
    package func sequenceNumber(at position: Int) -> String? {
        let entry = entries[position]
        guard entry.sequenceLength != Entry.none else { return nil }
        guard let answer else { return strings[Int(entry.sequenceStart)] }
        return answer.getString(at: answer.readerIndex + Int(entry.sequenceStart), length: Int(entry.sequenceLength))
    }

    private func string(_ index: UInt32) -> String? {
        index == Entry.none ? nil : strings[Int(index)]
    }

    /// The public form.
    @usableFromInline
    package var result: PutRecordsResult {
        PutRecordsResult(
            records: entries.indices.map { position in
                let entry = entries[position]
                let shard = string(entry.shard), code = string(entry.errorCode), message = string(entry.errorMessage)
                guard entry.sequenceLength != Entry.none, let answer else {
                    return PutRecordsResult.Entry(sequenceNumber: sequenceNumber(at: position), shardID: shard, errorCode: code, errorMessage: message)
                }
                let bytes = answer.getSlice(at: answer.readerIndex + Int(entry.sequenceStart), length: Int(entry.sequenceLength))
                return PutRecordsResult.Entry(sequenceNumberBytes: bytes, shardID: shard, errorCode: code, errorMessage: message)
            },
            failedRecordCount: failedRecordCount,
            encryptionType: encryptionType
        )
    }

    /// Reads the 200 answer to a PutRecords call of `recordCount` records: it must decode and hold one entry per
    /// record (a short or long answer is a transient `InvalidResponse`). Error codes and messages are capped at
    /// about 1 KiB (``AnswerText``) as they are read, before any record's error copies them.
    package static func decode(answer: ByteBuffer, recordCount: Int) throws(KinesisError) -> PutRecordsOutcomes {
        let outcomes: PutRecordsOutcomes
        if let usual = PutRecordsAnswer.read(answer) {
            outcomes = usual
        } else {
            outcomes = PutRecordsOutcomes(try KinesisClient.decode(PutRecordsResult.self, answer: answer, operation: "PutRecords"))
        }
        guard outcomes.count == recordCount else {
            throw KinesisError(
                code: .invalidResponse,
                message: "PutRecords answered \(outcomes.count) entries for \(recordCount) records",
                operation: "PutRecords",
                httpStatus: 200,
                retryClass: .transient
            )
        }
        return outcomes
    }
}
