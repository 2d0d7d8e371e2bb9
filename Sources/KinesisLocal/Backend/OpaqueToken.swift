import Foundation

/// A continuation token (NextToken, ShardIterator) that carries its state as base64 JSON. The client may forge
/// it: whatever decodes is still checked against the stream before use.
protocol OpaqueToken: Codable {}

extension OpaqueToken {
    init?(token: String) {
        guard let data = Data(base64Encoded: token), let decoded = try? JSONDecoder().decode(Self.self, from: data) else {
            return nil
        }
        self = decoded
    }

    var token: String {
        (try? JSONEncoder().encode(self))?.base64EncodedString() ?? ""
    }
}
