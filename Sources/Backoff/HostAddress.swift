#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A host as written in a URL or on a command line: an address when it parses as one, otherwise a name.
///
/// Decisions about where secrets may go (credentials over plain http, an unauthenticated admin API) are made on
/// parsed addresses, never on string prefixes: `127.evil.example` is a name, not a loopback address.
public enum HostAddress: Hashable, Sendable {
    /// An IPv4 address, in host byte order.
    case ipv4(UInt32)
    /// An IPv6 address, its 16 bytes in network order.
    case ipv6([UInt8])
    /// A DNS name, lowercased, without a trailing dot.
    case name(String)

    /// Parses `host`; IPv6 may be bracketed (`[::1]`), as in a URL.
    public init(_ host: String) {
        var text = host.lowercased()
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self = .ipv4(UInt32(bigEndian: v4.s_addr))
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            self = .ipv6(withUnsafeBytes(of: v6) { Array($0) })
            return
        }
        if text.hasSuffix(".") { text.removeLast() }
        self = .name(text)
    }

    /// Whether the host can only mean this machine: `localhost`, 127.0.0.0/8, `::1`, or an IPv4-mapped
    /// 127.0.0.0/8 address.
    public var isLoopback: Bool {
        switch self {
        case .name(let name):
            return name == "localhost"
        case .ipv4(let address):
            return address >> 24 == 127
        case .ipv6(let bytes):
            let loopback = bytes[0..<15].allSatisfy { $0 == 0 } && bytes[15] == 1
            let mappedV4Loopback = bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF && bytes[12] == 127
            return loopback || mappedV4Loopback
        }
    }
}
