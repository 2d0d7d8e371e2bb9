import Backoff
import Testing

@Suite("HostAddress")
struct HostAddressTests {
    @Test("addresses are parsed, names are names")
    func parsing() {
        #expect(HostAddress("127.0.0.1") == .ipv4(0x7F00_0001))
        #expect(HostAddress("[::1]") == .ipv6(Array(repeating: 0, count: 15) + [1]))
        #expect(HostAddress("Example.COM.") == .name("example.com"))
        #expect(HostAddress("127.evil.example") == .name("127.evil.example"))
        #expect(HostAddress("127.1") == .name("127.1"), "inet_pton takes only dotted quads")
    }

    @Test("loopback: parsed addresses, not prefixes")
    func loopback() {
        for host in ["localhost", "LOCALHOST", "localhost.", "127.0.0.1", "127.255.0.9", "::1", "[::1]", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"] {
            #expect(HostAddress(host).isLoopback, "\(host)")
        }
        for host in ["0.0.0.0", "::", "10.1.2.3", "127.example.com", "127.evil.example", "localhost.example.com", "128.0.0.1", "", "[::2]", "::ffff:10.0.0.1"] {
            #expect(!HostAddress(host).isLoopback, "\(host)")
        }
    }
}
