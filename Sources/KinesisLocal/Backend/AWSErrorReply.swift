/// An error answer shaped like Kinesis's: HTTP status, `__type` and a message like AWS's.
struct AWSErrorReply: Error, Sendable {
    var status: Int
    var type: String
    var message: String

    static func invalidArgument(_ message: String) -> AWSErrorReply {
        AWSErrorReply(status: 400, type: "InvalidArgumentException", message: message)
    }
    static func validation(_ message: String) -> AWSErrorReply {
        AWSErrorReply(status: 400, type: "ValidationException", message: message)
    }
    static func serialization(_ message: String) -> AWSErrorReply {
        AWSErrorReply(status: 400, type: "SerializationException", message: message)
    }
    static func resourceInUse(_ message: String) -> AWSErrorReply {
        AWSErrorReply(status: 400, type: "ResourceInUseException", message: message)
    }
}
