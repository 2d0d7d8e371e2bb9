import AWSSigning
import Foundation
import FuzzSupport
import KinesisLocal
import Logging
import NIOCore
import NIOHTTP1

/// The libFuzzer test for KinesisLocal's backend: a hostile client's requests, signed and authorised, so that the
/// fuzzer reaches the operations rather than the signature check.
///
/// Input: up to eight requests, each one byte choosing the target (one of the Kinesis operations or admin routes
/// below), two bytes of length (little-endian), and that many bytes: the JSON body, or for `GET /_admin/records` the
/// query. Every input runs against a fresh backend with two streams.
///
/// Checks: nothing crashes or traps; every answer is 200, a 4xx, a 503, or the injected `InternalFailure` (a 500 from
/// anything else is an error the backend did not expect); a Kinesis answer is JSON, an error naming its `__type`;
/// and afterwards, its faults cleared, the backend still answers `ListStreams`.
func fuzzLocalBackend(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = UnsafeBufferPointer(start: data, count: size)[...]
    let backend: LocalBackend
    do {
        backend = try LocalBackend(configuration: configuration, logger: Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() }))
    } catch {
        fatalError("the fuzz backend does not start: \(error)")
    }
    var requests = 0
    while requests < 8, input.count >= 3 {
        let selector = Int(input.removeFirst()) % (operations.count + adminRoutes.count)
        let length = Int(input.removeFirst()) | Int(input.removeFirst()) << 8
        let body = Array(input.prefix(length))
        input = input.dropFirst(length)
        requests += 1
        if selector < operations.count {
            kinesis(operations[selector], body: body, backend: backend)
        } else {
            let route = adminRoutes[selector - operations.count]
            let uri = route.method == .GET && route.path == "/_admin/records" ? route.path + "?" + String(decoding: body, as: UTF8.self) : route.path
            let reply = backend.handle(LocalRequest(method: route.method, uri: uri, headers: adminHeaders, body: ByteBuffer(bytes: body)))
            checkStatus(reply, "\(route.method) \(uri)")
        }
    }
    // Still serving: with the faults cleared, ListStreams answers.
    let cleared = backend.handle(LocalRequest(method: .POST, uri: "/_admin/faults", headers: adminHeaders, body: ByteBuffer(string: "{}")))
    check(cleared.status == .ok, "clearing the faults: \(cleared.status) \(String(buffer: cleared.body))")
    let listing = kinesis("ListStreams", body: Array("{}".utf8), backend: backend)
    check(listing.status == .ok, "ListStreams after the input: \(listing.status) \(String(buffer: listing.body))")
    return 0
}

let operations = [
    "PutRecords", "PutRecord", "CreateStream", "DeleteStream", "ListStreams", "DescribeStream", "DescribeStreamSummary",
    "ListShards", "UpdateShardCount", "GetShardIterator", "GetRecords",
    // The control plane and consumers (issue 16).
    "SplitShard", "MergeShards", "UpdateStreamMode", "IncreaseStreamRetentionPeriod", "DecreaseStreamRetentionPeriod",
    "EnableEnhancedMonitoring", "DisableEnhancedMonitoring", "StartStreamEncryption", "StopStreamEncryption",
    "UpdateMaxRecordSize", "DescribeLimits", "AddTagsToStream", "RemoveTagsFromStream", "ListTagsForStream",
    "TagResource", "UntagResource", "ListTagsForResource", "PutResourcePolicy", "GetResourcePolicy",
    "DeleteResourcePolicy", "RegisterStreamConsumer", "DescribeStreamConsumer", "ListStreamConsumers",
    "DeregisterStreamConsumer", "SubscribeToShard",
]

let adminRoutes: [(method: HTTPMethod, path: String)] = [
    (.GET, "/_admin/faults"), (.POST, "/_admin/faults"), (.POST, "/_admin/reshard"), (.GET, "/_admin/stats"), (.GET, "/_admin/records"),
]

let key = KinesisLocal.Configuration.Authentication.AccessKey(accessKeyID: "AKIDFUZZ", secretAccessKey: "fuzz-secret")
let configuration = KinesisLocal.Configuration(
    streams: [.init(name: "s", shardCount: 2), .init(name: "small", shardCount: 1)],
    authentication: .strict([key]),
    adminToken: "fuzz-token"
)
let adminHeaders = HTTPHeaders([("Host", "127.0.0.1"), ("Authorization", "Bearer fuzz-token")])
let signer = SigV4Signer(service: "kinesis", region: "us-east-1")
let credentials = AWSCredentialIdentity(accessKeyID: key.accessKeyID, secretAccessKey: key.secretAccessKey)

/// Sends one signed Kinesis operation and checks the answer's form.
@discardableResult
func kinesis(_ operation: String, body: [UInt8], backend: LocalBackend) -> LocalReply {
    var headers = [("Host", "127.0.0.1"), ("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", "Kinesis_20131202.\(operation)")]
    let signature = signer.sign(method: "POST", headers: headers, payloadHash: SigV4Signer.payloadHash(body), credentials: credentials, date: Date())
    headers += signature.headersToAdd.map { ($0.name, $0.value) }
    let reply = backend.handle(LocalRequest(method: .POST, uri: "/", headers: HTTPHeaders(headers), body: ByteBuffer(bytes: body)))
    checkStatus(reply, operation)
    guard !reply.dropConnection else { return reply }
    let object = try? JSONSerialization.jsonObject(with: Data(reply.body.readableBytesView))
    check(object is [String: Any], "\(operation) answered \(reply.status) with a body that is not a JSON object: \(String(buffer: reply.body))")
    if reply.status != .ok {
        check((object as? [String: Any])?["__type"] is String, "\(operation) error without __type: \(String(buffer: reply.body))")
    }
    return reply
}

func checkStatus(_ reply: LocalReply, _ request: @autoclosure () -> String) {
    let code = reply.status.code
    let injected = code == 500 && String(buffer: reply.body).contains("Internal service failure.")
    check(code == 200 || (400..<500).contains(code) || code == 503 || injected, "\(request()) answered \(code): \(String(buffer: reply.body))")
}
