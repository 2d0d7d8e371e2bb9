import Crypto
import Synchronization

/// Derived SigV4 signing keys, one per secret, day, region and service.
///
/// Deriving a key costs four HMACs; a producer signs thousands of requests a day with the same one. The cache is
/// bounded: when it holds more than `capacity` keys (credentials rotated many times in a day), it starts over.
public final class SigningKeyCache: Sendable {
    struct Key: Hashable {
        var secretAccessKey: String
        var dateStamp: Substring
        var region: String
        var service: String
    }

    private let keys = Mutex<[Key: SymmetricKey]>([:])
    private let capacity: Int

    /// Creates an empty cache that holds at most `capacity` signing keys.
    public init(capacity: Int = 16) {
        self.capacity = max(1, capacity)
    }

    /// The number of keys derived and held; lets tests see the cache at work.
    public var count: Int { keys.withLock { $0.count } }

    func signingKey(secretAccessKey: String, dateStamp: Substring, region: String, service: String) -> SymmetricKey {
        let key = Key(secretAccessKey: secretAccessKey, dateStamp: dateStamp, region: region, service: service)
        if let cached = keys.withLock({ $0[key] }) { return cached }
        let derived = Self.derive(secretAccessKey: secretAccessKey, dateStamp: dateStamp, region: region, service: service)
        keys.withLock { keys in
            if keys.count >= capacity { keys.removeAll(keepingCapacity: true) }
            keys[key] = derived
        }
        return derived
    }

    static func derive(secretAccessKey: String, dateStamp: Substring, region: String, service: String) -> SymmetricKey {
        func hmac(_ key: SymmetricKey, _ text: some StringProtocol) -> SymmetricKey {
            SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: key))
        }
        let secret = SymmetricKey(data: Array(("AWS4" + secretAccessKey).utf8))
        return hmac(hmac(hmac(hmac(secret, dateStamp), region), service), "aws4_request")
    }
}
