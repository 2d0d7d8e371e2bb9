import Foundation
import HTTPTypes
import Hummingbird
import KinesisPusher
import Logging

/// `POST /events`: the request body becomes one Kinesis record.
///
/// The partition key comes from the `Partition-Key` header, else from a top-level field of a JSON object body
/// (`partitionKey` unless `PARTITION_KEY_FIELD` names another); without either the request is refused (400).
/// By default the record is queued with `send` and the answer is `202 Accepted` at once; with `?wait=true` it is
/// sent with `put` and the answer, `201 Created`, says on which shard Kinesis stored it.
struct EventsController: Sendable {
    let runner: Runner
    let partitionKeyField: String

    /// The largest record Kinesis takes (data plus partition key); the runner checks the exact limit.
    static let maxBodyBytes = 1 << 20
    static let partitionKeyHeader = HTTPField.Name("Partition-Key")!

    /// The JSON answer: `{"status":"accepted"}`, or with `?wait=true` where the record was stored.
    struct Answer: ResponseEncodable {
        var status: String
        var shardId: String?
        var sequenceNumber: String?
        var attempts: Int?
        var latencyMs: Double?
    }

    @Sendable func post(request: Request, context: BasicRequestContext) async throws -> EditedResponse<Answer> {
        let body = try await request.body.collect(upTo: Self.maxBodyBytes)
        let data = Array(body.readableBytesView)
        guard let key = partitionKey(headers: request.headers, body: data) else {
            throw HTTPError(
                .badRequest,
                message: "no partition key: send a Partition-Key header or a JSON object with a \"\(partitionKeyField)\" field"
            )
        }
        let record = Record(data: data, partitionKey: key)
        do {
            if request.uri.queryParameters.get("wait") == "true" {
                let result = try await runner.put(record)
                let answer = Answer(
                    status: "stored",
                    shardId: result.shardID,
                    sequenceNumber: result.sequenceNumber,
                    attempts: result.attempts,
                    latencyMs: Double(result.latency.components.attoseconds) / 1e15 + Double(result.latency.components.seconds) * 1000
                )
                return EditedResponse(status: .created, response: answer)
            }
            try await runner.send(record)
            return EditedResponse(status: .accepted, response: Answer(status: "accepted"))
        } catch let error as RunnerError {
            context.logger.warning("event refused", metadata: ["partition_key": "\(key)", "error": "\(error)"])
            switch error.code {
            case .invalidRecord:
                throw HTTPError(.badRequest, message: error.message)
            case .shutdown, .notRunning:
                throw HTTPError(.serviceUnavailable, message: "shutting down; try again elsewhere")
            default:
                throw HTTPError(.badGateway, message: "Kinesis did not take the event: \(error.message)")
            }
        }
    }

    /// The `Partition-Key` header, else the configured field of a JSON object body (a string or a number).
    func partitionKey(headers: HTTPFields, body: [UInt8]) -> String? {
        if let header = headers[Self.partitionKeyHeader], !header.isEmpty { return header }
        guard body.first(where: { !$0.isWhitespace }) == UInt8(ascii: "{"),
            let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
        else { return nil }
        switch object[partitionKeyField] {
        case let text as String where !text.isEmpty: return text
        case let number as NSNumber: return number.stringValue
        default: return nil
        }
    }
}

extension UInt8 {
    fileprivate var isWhitespace: Bool { self == 0x20 || self == 0x09 || self == 0x0A || self == 0x0D }
}
