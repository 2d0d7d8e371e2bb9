import Foundation
import KinesisAPI
import KinesisLocal
import NIOCore
import NIOHTTP1
import Testing
import TestSupport

/// Requests that used to trap the server (and so end every client's session): each must get an answer, and the
/// server must keep answering afterwards.
@Suite("KinesisLocal survives hostile requests")
struct HostileRequestTests {
    /// The server still answers a plain ListStreams.
    static func stillServing(_ server: KinesisLocal, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let answer = try await rawKinesis(server.endpoint, operation: "ListStreams", json: "{}")
        #expect(answer.status == 200, "\(answer.body)", sourceLocation: sourceLocation)
    }

    @Test("GET /_admin/records with empty query pairs (`?=`, `?&=&`, `?=x`): 400 naming the parameter, no trap")
    func emptyQueryPairs() async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: 1)])) { server in
            for query in ["?=", "?&=&", "?=x", "?==", "?=&deaggregate"] {
                let answer = try await admin(server, .GET, "/_admin/records" + query)
                #expect(answer.status == 400, "\(query): \(answer.body)")
                #expect(answer.body.contains("name the stream"), "\(query): \(answer.body)")
            }
            let named = try await admin(server, .GET, "/_admin/records?=&stream=s&=")
            #expect(named.status == 200, "\(named.body)")
            try await Self.stillServing(server)
        }
    }

    /// A ListShards page token as KinesisLocal writes it, with `offset` forged.
    static func forgedToken(offset: String, issuedAt: Double = Date().timeIntervalSince1970) -> String {
        let json = #"{"region":"us-east-1","stream":"s","openOnly":false,"offset":\#(offset),"issuedAt":\#(issuedAt)}"#
        return Data(json.utf8).base64EncodedString()
    }

    @Test(
        "a forged ListShards NextToken (negative, past the end, huge, fractional, not a number, not base64): 400 InvalidArgumentException",
        arguments: [
            forgedToken(offset: "-1"), forgedToken(offset: "-9223372036854775808"), forgedToken(offset: "4"),
            forgedToken(offset: "9223372036854775807"), forgedToken(offset: "1e30"), forgedToken(offset: "0.5"),
            forgedToken(offset: #""two""#), "not base64!", Data("[]".utf8).base64EncodedString(),
        ]
    )
    func forgedNextToken(token: String) async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: 3)])) { server in
            let answer = try await rawKinesis(server.endpoint, operation: "ListShards", json: #"{"NextToken":"\#(token)"}"#)
            #expect(answer.status == 400, "\(answer.body)")
            #expect(answer.errorType == "InvalidArgumentException", "\(answer.body)")
            #expect(answer.message == "Invalid NextToken.", "\(answer.body)")
            try await Self.stillServing(server)
        }
    }

    @Test("a forged NextToken from long ago is ExpiredNextTokenException; the end of the listing is an empty last page")
    func forgedExpiredAndEnd() async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: 3)])) { server in
            let old = try await rawKinesis(server.endpoint, operation: "ListShards", json: #"{"NextToken":"\#(Self.forgedToken(offset: "1", issuedAt: 0))"}"#)
            #expect(old.status == 400)
            #expect(old.errorType == "ExpiredNextTokenException", "\(old.body)")
            let end = try await rawKinesis(server.endpoint, operation: "ListShards", json: #"{"NextToken":"\#(Self.forgedToken(offset: "3"))"}"#)
            #expect(end.status == 200, "\(end.body)")
            #expect((end.object?["Shards"] as? [Any])?.isEmpty == true)
            #expect(end.object?["NextToken"] == nil)
        }
    }

    @Test("POST /_admin/faults with a latency past an hour or a rate outside 0…1: 400, faults unchanged")
    func faultsOutOfRange() async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: 1)])) { server in
            for body in [#"{"addedLatencyMilliseconds":9223372036854775807}"#, #"{"addedLatencyMilliseconds":-5}"#, #"{"recordThrottleRate":2}"#] {
                let answer = try await admin(server, .POST, "/_admin/faults", json: body)
                #expect(answer.status == 400, "\(body): \(answer.body)")
                #expect(answer.body.contains("bad faults"), "\(answer.body)")
            }
            #expect(server.faults == KinesisLocal.Faults())
            try await Self.stillServing(server)
        }
    }
}
