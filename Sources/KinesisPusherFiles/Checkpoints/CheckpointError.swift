/// A checkpoint file that cannot be read or written. The message names the file and the cause.
public struct CheckpointError: Error, Sendable, CustomStringConvertible {
    /// A kind of failure; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Backing: Hashable, Sendable {
            case unreadable, malformed, unwritable
        }
        private let backing: Backing
        private init(_ backing: Backing) { self.backing = backing }

        /// The file exists but cannot be read.
        public static let unreadable = Code(.unreadable)
        /// The file is not a checkpoint file this version understands.
        public static let malformed = Code(.malformed)
        /// The new checkpoints could not be written, synced or renamed into place (the old file is intact).
        public static let unwritable = Code(.unwritable)

        public var description: String {
            switch backing {
            case .unreadable: "unreadable"
            case .malformed: "malformed"
            case .unwritable: "unwritable"
            }
        }
    }

    /// What went wrong.
    public var code: Code
    /// A human-readable cause naming the file.
    public var message: String
    /// The system or decoding error behind it, if any.
    public var underlying: (any Error)?

    public init(_ code: Code, message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String { message }
}
