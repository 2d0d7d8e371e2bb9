import Backoff

extension KinesisLocal {
    /// Whether `host` can only mean this machine: `localhost`, an IPv4 address in 127.0.0.0/8, or the IPv6
    /// loopback `::1` (bracketed or not, also IPv4-mapped). Addresses are parsed, not matched by prefix, so a
    /// name like `127.example.com` does not pass.
    public static func isLoopback(host: String) -> Bool {
        HostAddress(host).isLoopback
    }
}
