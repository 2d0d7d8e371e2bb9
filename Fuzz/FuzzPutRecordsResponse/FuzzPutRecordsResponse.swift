import Foundation
import FuzzSupport
import KinesisAPI
import NIOCore

/// The libFuzzer test for the PutRecords answer decoder: the input is the body of a 200 answer.
///
/// Checks: an answer that does not decode is a fatal `InvalidResponse` whatever the record count; one that does is
/// accepted for exactly its own number of entries (otherwise a transient `InvalidResponse`) with its error codes and
/// messages capped at 1 KiB (``AnswerText``), and it survives being written out as JSON and read back unchanged.
func fuzzPutRecordsResponse(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let answer = ByteBuffer(bytes: UnsafeBufferPointer(start: data, count: size))
    let decoded: PutRecordsResult
    do {
        decoded = try KinesisClient.decode(PutRecordsResult.self, answer: answer, operation: "PutRecords")
    } catch {
        checkInvalid(error, retryClass: .fatal)
        do {
            _ = try PutRecordsResult.decode(answer: answer, recordCount: 1)
            fatalError("an answer that does not decode was accepted")
        } catch {
            checkInvalid(error, retryClass: .fatal)
        }
        return 0
    }

    do {
        let result = try PutRecordsResult.decode(answer: answer, recordCount: decoded.records.count)
        check(result == capped(decoded), "decoding is not deterministic, or the texts are not capped")
    } catch {
        fatalError("an answer with one entry per record was refused: \(error)")
    }
    do {
        _ = try PutRecordsResult.decode(answer: answer, recordCount: decoded.records.count + 1)
        fatalError("an answer one entry short was accepted")
    } catch {
        checkInvalid(error, retryClass: .transient)
    }

    let rewritten = ByteBuffer(bytes: json(decoded))
    do {
        let again = try PutRecordsResult.decode(answer: rewritten, recordCount: decoded.records.count)
        check(again == capped(decoded), "JSON round trip changed the result: \(decoded) -> \(again)")
    } catch {
        fatalError("the result written back as JSON does not decode: \(error)")
    }
    for entry in decoded.records {
        check(entry.succeeded == (entry.errorCode == nil && entry.sequenceNumber != nil))
    }
    return 0
}

/// `result` with every entry's error code and message capped as ``PutRecordsResult/decode(answer:recordCount:)`` does.
func capped(_ result: PutRecordsResult) -> PutRecordsResult {
    var result = result
    for index in result.records.indices {
        result.records[index].errorCode = AnswerText.capped(result.records[index].errorCode)
        result.records[index].errorMessage = AnswerText.capped(result.records[index].errorMessage)
    }
    return result
}

func checkInvalid(_ error: KinesisError, retryClass: KinesisError.RetryClass) {
    check(error.code == .invalidResponse, "unexpected code \(error.code)")
    check(error.operation == "PutRecords" && error.httpStatus == 200)
    check(error.retryClass == retryClass, "retry class \(error.retryClass), expected \(retryClass)")
}

/// `result` as Kinesis would write it (absent members left out).
func json(_ result: PutRecordsResult) -> [UInt8] {
    var object: [String: Any] = [
        "FailedRecordCount": result.failedRecordCount,
        "Records": result.records.map { entry in
            var fields: [String: Any] = [:]
            fields["SequenceNumber"] = entry.sequenceNumber
            fields["ShardId"] = entry.shardID
            fields["ErrorCode"] = entry.errorCode
            fields["ErrorMessage"] = entry.errorMessage
            return fields
        },
    ]
    object["EncryptionType"] = result.encryptionType
    do {
        return Array(try JSONSerialization.data(withJSONObject: object))
    } catch {
        fatalError("cannot write \(result) as JSON: \(error)")
    }
}
