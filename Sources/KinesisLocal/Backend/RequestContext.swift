/// What an operation knows about the request besides its body: the region it was signed for (which picks the
/// streams it sees) and the backend clock's reading.
struct RequestContext {
    var region: String
    var now: Double
}
