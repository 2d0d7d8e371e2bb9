/// An enhanced fan-out consumer registered on a stream.
struct LocalConsumer {
    var name: String
    var arn: String
    var createdAt: Double
    var attributes = ResourceAttributes()
}
