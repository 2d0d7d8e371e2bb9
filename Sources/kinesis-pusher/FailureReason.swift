import AWSCredentials
import KinesisAPI
import KinesisPusher

/// One line that says why a command failed, in the words an operator needs: which stream, which credentials,
/// which endpoint.
enum FailureReason {
    static func describe(_ error: any Error, stream: String, endpoint: String?) -> String {
        switch error {
        case let error as KinesisError:
            switch error.code {
            case .resourceNotFound:
                return "stream '\(stream)' not found (\(error.message))"
            case .credentials:
                return "no usable credentials: \(error.message)"
            case .credentialsUnavailable:
                return "no credentials for now (the source keeps failing): \(error.message)"
            case .transport, .timeout:
                if error.message.contains("CERTIFICATE_VERIFY_FAILED") {
                    return "the endpoint's TLS certificate is not trusted (a private CA, or `kinesis-pusher local --tls`: pass its certificate with --ca-bundle or AWS_CA_BUNDLE): \(error.message)"
                }
                return "endpoint unreachable: \(error.message)"
            default:
                if error.rejectsCredentials {
                    return "credentials rejected by \(endpoint ?? "Kinesis"): \(error.code.rawValue): \(error.message)"
                }
                return error.description
            }
        case let error as RunnerError:
            if let kinesisError = error.kinesisError, error.code == .streamUnusable {
                return describe(kinesisError, stream: stream, endpoint: endpoint)
            }
            return error.message
        case let error as CredentialProviderError:
            return "\(error.provider == "region" ? "" : "credentials: ")\(error.message)"
        default:
            return "\(error)"
        }
    }
}
