import Crypto

/// Holds one shard listing to ``KinesisClient/Configuration/Listing``: counts pages and shards, and remembers
/// every page token (or resume point) as a SHA-256 digest — AWS allows tokens of up to a megabyte — so an
/// endpoint that pages in a loop is caught at the first repeat.
struct ListingBounds {
    private let limits: KinesisClient.Configuration.Listing
    private let operation: String
    private let stream: StreamIdentifier
    private var pages = 0
    private var seen: Set<SHA256.Digest> = []

    init(_ limits: KinesisClient.Configuration.Listing, operation: String, stream: StreamIdentifier) {
        self.limits = limits
        self.operation = operation
        self.stream = stream
    }

    /// Counts a page that brought the listing to `shards` shards and points to `next` (`nil`: the last page).
    mutating func page(shards: Int, next: String?) throws(KinesisError) {
        pages += 1
        guard shards <= limits.maxShards else {
            throw failure("listed more than \(limits.maxShards) shards; stopped (Configuration.listing.maxShards)")
        }
        guard let next else { return }
        guard pages < limits.maxPages else {
            throw failure("answered \(pages) pages with still another to follow; stopped (Configuration.listing.maxPages)")
        }
        guard seen.insert(SHA256.hash(data: Array(next.utf8))).inserted else {
            throw failure("answered page \(pages) pointing to a page it had pointed to before: the endpoint pages in a loop")
        }
    }

    private func failure(_ text: String) -> KinesisError {
        KinesisError(
            code: .invalidResponse,
            message: "\(operation) of stream \(stream) \(text)",
            operation: operation,
            httpStatus: 200,
            retryClass: .fatal
        )
    }
}
