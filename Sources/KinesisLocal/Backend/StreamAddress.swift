/// Where a stream lives: streams are per region, so the same name in two regions is two streams.
struct StreamAddress: Hashable, Sendable, CustomStringConvertible {
    var region: String
    var name: String

    var description: String { "\(name) (\(region))" }
}
