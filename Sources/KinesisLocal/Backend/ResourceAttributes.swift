/// What streams and consumers both carry: tags and a resource policy.
struct ResourceAttributes {
    var tags: [String: String] = [:]
    /// The policy document as the client sent it (JSON).
    var policy: String?
}
