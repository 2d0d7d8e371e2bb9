import Foundation
import KinesisLocal
import NIOCore
import NIOHTTP1
import Testing
import TestSupport

/// `/_admin/` answers only requests with the admin token and a loopback (or the bound) `Host`.
@Suite("KinesisLocal admin access")
struct AdminAccessTests {
    @Test("without the token, with a wrong one, or another scheme: 403 saying how to send it; with it: 200")
    func token() async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: 1)])) { server in
            #expect(server.adminToken.count == 64, "a random token of 32 bytes: \(server.adminToken)")
            for token in [String?.none, "wrong", "", server.adminToken + "x", String(server.adminToken.dropLast())] {
                for path in ["/_admin/stats", "/_admin/faults", "/_admin/records?stream=s"] {
                    let answer = try await admin(server, .GET, path, token: .some(token))
                    #expect(answer.status == 403, "\(path) with \(token ?? "no token"): \(answer.status)")
                    #expect(answer.body.contains("Authorization: Bearer TOKEN"), "\(answer.body)")
                }
            }
            let changed = try await admin(server, .POST, "/_admin/faults", json: #"{"recordThrottleRate":1}"#, token: .some("wrong"))
            #expect(changed.status == 403)
            #expect(server.faults == KinesisLocal.Faults(), "a refused request changes nothing")
            #expect(try await admin(server, .GET, "/_admin/stats").status == 200)
        }
    }

    @Test("a configured token is the one required, and two servers draw different ones")
    func configuredToken() async throws {
        try await withServer(.init(adminToken: "s3cret-token")) { server in
            #expect(server.adminToken == "s3cret-token")
            let right = try await admin(server, .GET, "/_admin/stats")
            let wrong = try await admin(server, .GET, "/_admin/stats", token: .some("other"))
            #expect(right.status == 200)
            #expect(wrong.status == 403)
        }
        try await withServer { first in
            try await withServer { second in
                #expect(first.adminToken != second.adminToken)
            }
        }
    }

    @Test("an empty or spaced admin token is refused at start")
    func badConfiguredToken() async throws {
        for token in ["", "two words"] {
            await #expect(throws: KinesisLocalError.self) { try await KinesisLocal.start(.init(adminToken: token)) }
        }
    }

    @Test("Host names that are not loopback (DNS rebinding) are refused even with the token; loopback ones pass")
    func hostHeader() async throws {
        try await withServer { server in
            for host in ["evil.example", "evil.example:\(server.port)", "127.0.0.1.evil.example", "127.evil.example:\(server.port)", "0.0.0.0:\(server.port)", "10.0.0.1"] {
                let answer = try await admin(server, .GET, "/_admin/stats", host: host)
                #expect(answer.status == 403, "Host \(host): \(answer.status)")
                #expect(answer.body.contains("DNS rebinding"), "\(answer.body)")
            }
            for host in ["localhost:\(server.port)", "LOCALHOST", "127.0.0.1:\(server.port)", "127.1.2.3", "[::1]:\(server.port)", "[::ffff:127.0.0.1]"] {
                let answer = try await admin(server, .GET, "/_admin/stats", host: host)
                #expect(answer.status == 200, "Host \(host): \(answer.status) \(answer.body)")
            }
        }
    }

    @Test("the admin check does not touch the Kinesis API: a signed request needs no admin token")
    func kinesisUnaffected() async throws {
        try await withServer(.init(streams: [.init(name: "s", shardCount: 1)])) { server in
            let answer = try await rawKinesis(server.endpoint, operation: "ListStreams", json: "{}")
            #expect(answer.status == 200)
        }
    }
}
