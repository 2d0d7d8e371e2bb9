import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// The admin endpoint, under `/_admin/`, for changing faults and reading counters while the server runs. Every
/// request must carry `Authorization: Bearer TOKEN` with ``KinesisLocal/adminToken`` and a loopback `Host`
/// (``AdminAccess``); otherwise it is answered 403.
///
/// - `GET /_admin/faults` — the faults in force, as JSON (``KinesisLocal/Faults``).
/// - `POST /_admin/faults` — replace them (members left out are off); the generator is reseeded, the per-key
///   request counts of `expiredTokenAfterRequests` restart only when that limit changes.
/// - `POST /_admin/reshard` — `{"stream": "s", "shardCount": 8}` (default: double the open shards), at once;
///   `"region"` picks a stream outside the configured region.
/// - `GET /_admin/stats` — ``KinesisLocal/Stats`` as JSON.
/// - `GET /_admin/records?stream=s[&deaggregate=true][&region=R]` — every stored record as NDJSON (data in base64), shard by
///   shard; with `deaggregate`, KPL aggregates unpacked and flagged as the KCL reads them
///   (``KinesisLocal/storedRecords(stream:deaggregate:)``).
enum AdminAPI {
    static func handle(_ request: LocalRequest, backend: LocalBackend) -> LocalReply {
        let path = request.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? request.uri
        do {
            switch (request.method, path) {
            case (.GET, "/_admin/faults"):
                return try reply(backend.state.withLock { $0.faults })
            case (.POST, "/_admin/faults"), (.PUT, "/_admin/faults"):
                let faults = try JSONDecoder().decode(KinesisLocal.Faults.self, from: Data(request.body.readableBytesView))
                if let problem = faults.problem { return plain("bad faults: \(problem)", status: .badRequest) }
                backend.state.withLock { $0.replaceFaults(faults) }
                return try reply(faults)
            case (.POST, "/_admin/reshard"):
                struct Reshard: Decodable {
                    var stream: String
                    var shardCount: Int?
                    var region: String?
                }
                let order = try JSONDecoder().decode(Reshard.self, from: Data(request.body.readableBytesView))
                let result = try backend.state.withLock { state throws(AWSErrorReply) in
                    let address = StreamAddress(region: order.region ?? state.defaultRegion, name: order.stream)
                    let open = state.streams[address]?.openShardIndices.count ?? 0
                    let target = order.shardCount ?? max(1, open * 2)
                    _ = try state.updateShardCount(stream: address, target: target, now: backend.clock.now())
                    return ["stream": order.stream, "previousOpenShards": "\(open)", "openShards": "\(target)"]
                }
                return try reply(result)
            case (.GET, "/_admin/stats"):
                return try reply(backend.state.withLock { $0.stats })
            case (.GET, "/_admin/records"):
                let query = Self.query(request.uri)
                guard let stream = query["stream"] else { return plain("name the stream: /_admin/records?stream=NAME", status: .badRequest) }
                let records = try backend.storedRecords(stream: stream, deaggregate: query["deaggregate"] == "true", region: query["region"])
                return try lines(records.map(RecordLine.init))
            default:
                return plain("no admin route \(request.method.rawValue) \(path); try GET /_admin/faults, POST /_admin/faults, POST /_admin/reshard, GET /_admin/stats, GET /_admin/records?stream=NAME", status: .notFound)
            }
        } catch let error as AWSErrorReply {
            return .error(error)
        } catch {
            return plain("bad admin request: \(error)", status: .badRequest)
        }
    }

    /// A stored record on the wire: data as base64.
    struct RecordLine: Encodable {
        var shardId: String
        var sequenceNumber: String
        var subSequenceNumber: Int?
        var partitionKey: String
        var explicitHashKey: String?
        var data: String
        var droppedByKCL: Bool

        init(_ record: KinesisLocal.StoredRecord) {
            shardId = record.shardID
            sequenceNumber = record.sequenceNumber
            subSequenceNumber = record.subSequenceNumber
            partitionKey = record.partitionKey
            explicitHashKey = record.explicitHashKey
            data = Data(record.data).base64EncodedString()
            droppedByKCL = record.droppedByKCL
        }
    }

    static func query(_ uri: String) -> [String: String] {
        guard let query = uri.split(separator: "?", maxSplits: 1).dropFirst().first else { return [:] }
        var result: [String: String] = [:]
        for pair in query.split(separator: "&") {
            // Not omitting empty parts: "=" splits into two empty ones, never into none.
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                .map { String($0).removingPercentEncoding ?? String($0) }
            guard let name = parts.first, !name.isEmpty else { continue }
            result[name] = parts.count > 1 ? parts[1] : "true"
        }
        return result
    }

    static func lines(_ values: [some Encodable]) throws -> LocalReply {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var buffer = ByteBuffer()
        for value in values {
            buffer.writeBytes(try encoder.encode(value))
            buffer.writeInteger(UInt8(ascii: "\n"))
        }
        return .json(buffer, contentType: "application/x-ndjson")
    }

    static func reply(_ value: some Encodable) throws -> LocalReply {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return .json(ByteBuffer(bytes: try encoder.encode(value)), contentType: "application/json")
    }

    static func plain(_ text: String, status: HTTPResponseStatus) -> LocalReply {
        .json(ByteBuffer(string: text + "\n"), status: status, contentType: "text/plain; charset=utf-8")
    }
}
