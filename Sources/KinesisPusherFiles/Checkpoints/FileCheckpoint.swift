/// How far one file is delivered: every line before ``offset`` reached the stream.
public struct FileCheckpoint: Sendable, Hashable, Codable {
    /// The path the file was followed under (absolute).
    public var path: String
    /// The file behind the path when the checkpoint was taken: after a rotation it is found under another name.
    public var identity: FileIdentity
    /// The byte offset just after the last delivered line.
    public var offset: Int64

    public init(path: String, identity: FileIdentity, offset: Int64) {
        self.path = path
        self.identity = identity
        self.offset = offset
    }
}
