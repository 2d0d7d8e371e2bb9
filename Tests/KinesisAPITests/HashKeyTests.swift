import Crypto
import Foundation
import Testing
import TestSupport

@testable import KinesisAPI

@Suite("HashKey")
struct HashKeyTests {
    /// Protocol reference §7: MD5 of the UTF-8 key, read as a big-endian 128-bit integer.
    static let vectors: [(key: String, decimal: String)] = [
        ("a", "16955237001963240173058271559858726497"),
        ("pk-1", "273922656776327812788301823748127981641"),
        ("partitionKey", "193318062818912349798954611745638949166"),
        ("ü-ключ-🙂", "215722724560976093341561986980418293505"),
    ]

    @Test("MD5 test vectors", arguments: vectors)
    func md5Vectors(key: String, decimal: String) {
        let hash = HashKey(partitionKey: key)
        #expect(hash.description == decimal)
        #expect(HashKey(decimal: decimal) == hash)
    }

    @Test("the MD5 is read big-endian")
    func bigEndian() {
        // MD5("a") = 0cc175b9c0f1b6a831c399e269772661
        #expect(HashKey(partitionKey: "a").value == 0x0cc1_75b9_c0f1_b6a8_31c3_99e2_6977_2661)
    }

    @Test("the partition key MD5 agrees with swift-crypto's for every length across the block and padding edges")
    func md5AgreesWithCrypto() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...300 {
            for _ in 0..<4 {
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let expected = Insecure.MD5.hash(data: bytes).reduce(UInt128(0)) { $0 << 8 | UInt128($1) }
                let ours = bytes.withUnsafeBytes { PartitionKeyMD5.hash($0) }
                #expect(ours == expected, "length \(length): \(bytes)")
            }
        }
        // RFC 1321's own examples.
        #expect(HashKey(partitionKey: "").value == 0xd41d_8cd9_8f00_b204_e980_0998_ecf8_427e)
        #expect(HashKey(partitionKey: "abc").value == 0x9001_5098_3cd2_4fb0_d696_3f7d_28e1_7f72)
    }

    @Test("decimal round trip of the extremes")
    func extremes() throws {
        #expect(HashKey.min.description == "0")
        #expect(HashKey.max.description == "340282366920938463463374607431768211455")
        #expect(HashKey(decimal: "0") == .min)
        #expect(HashKey(decimal: "340282366920938463463374607431768211455") == .max)
        #expect(try #require(HashKey(decimal: "170141183460469231731687303715884105728")).value == UInt128(1) << 127)
    }

    @Test(
        "decimal parse rejects what is not a hash key",
        arguments: [
            "", "00", "01", "007", "-1", "+1", " 1", "1 ", "1a", "0x10", "1.0", "1e3", "١٢٣",
            "340282366920938463463374607431768211456",  // 2^128
            "340282366920938463463374607431768211457",
            "999999999999999999999999999999999999999",
            "3402823669209384634633746074317682114550",
        ]
    )
    func rejects(text: String) {
        #expect(HashKey(decimal: text) == nil)
    }

    @Test("Codable uses the decimal string and validates it")
    func codable() throws {
        let encoded = try JSONEncoder().encode([HashKey.max])
        #expect(String(decoding: encoded, as: UTF8.self) == #"["340282366920938463463374607431768211455"]"#)
        #expect(try JSONDecoder().decode([HashKey].self, from: encoded) == [.max])
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([HashKey].self, from: Data(#"["340282366920938463463374607431768211456"]"#.utf8))
        }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([HashKey].self, from: Data(#"["012"]"#.utf8)) }
    }

    @Test("even split into 2 and 4 shards matches the reference boundaries")
    func evenSplitBoundaries() {
        let two = evenSplit(2).map { [$0.startingHashKey.description, $0.endingHashKey.description] }
        #expect(
            two == [
                ["0", "170141183460469231731687303715884105727"],
                ["170141183460469231731687303715884105728", "340282366920938463463374607431768211455"],
            ]
        )
        let four = evenSplit(4).map { [$0.startingHashKey.description, $0.endingHashKey.description] }
        #expect(
            four == [
                ["0", "85070591730234615865843651857942052863"],
                ["85070591730234615865843651857942052864", "170141183460469231731687303715884105727"],
                ["170141183460469231731687303715884105728", "255211775190703847597530955573826158591"],
                ["255211775190703847597530955573826158592", "340282366920938463463374607431768211455"],
            ]
        )
    }

    @Test(
        "routing table for 2 and 4 shards matches the reference",
        arguments: [
            (2, ["a": 0, "pk-1": 1, "partitionKey": 1, "ü-ключ-🙂": 1]),
            (4, ["a": 0, "pk-1": 3, "partitionKey": 2, "ü-ключ-🙂": 2]),
        ]
    )
    func routing(shards: Int, expected: [String: Int]) {
        let ranges = evenSplit(shards)
        for (key, shard) in expected {
            let hash = HashKey(partitionKey: key)
            #expect(route(hash, in: ranges) == shard, "\(key)")
            // Exactly one range contains the hash (inclusive ends, no gaps, no overlaps).
            #expect(ranges.indices.filter { ranges[$0].contains(hash) } == [shard], "\(key)")
        }
        #expect(route(.max, in: ranges) == shards - 1)
        #expect(ranges[shards - 1].contains(.max))
        #expect(route(.min, in: ranges) == 0)
    }

    @Test("range bounds are inclusive on both ends")
    func inclusiveBounds() {
        let ranges = evenSplit(4)
        for (index, range) in ranges.enumerated() {
            #expect(range.contains(range.startingHashKey))
            #expect(range.contains(range.endingHashKey))
            #expect(route(range.startingHashKey, in: ranges) == index)
            #expect(route(range.endingHashKey, in: ranges) == index)
            if index + 1 < ranges.count {
                #expect(!range.contains(ranges[index + 1].startingHashKey))
                #expect(ranges[index + 1].startingHashKey.value == range.endingHashKey.value + 1)
            }
        }
    }
}
