/// MD5 (RFC 1321) for partition keys: every record's key is hashed to predict its shard, and for inputs this short
/// the cost was the digest object around the hash, not the hash. No allocation: the state lives in locals.
///
/// Only for routing (Kinesis defines it so); never for anything security-related.
enum PartitionKeyMD5 {
    /// The digest of `bytes` read as a big-endian 128-bit integer, as Kinesis reads it.
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt128 {
        var state = (UInt32(0x6745_2301), UInt32(0xefcd_ab89), UInt32(0x98ba_dcfe), UInt32(0x1032_5476))
        let whole = bytes.count / 64 * 64
        var offset = 0
        while offset < whole {
            compress(&state, UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + 64]))
            offset += 64
        }
        // The tail, the 0x80 marker and the bit length fill one or two last blocks.
        withUnsafeTemporaryAllocation(byteCount: 128, alignment: 8) { tail in
            let rest = bytes.count - whole
            tail.initializeMemory(as: UInt8.self, repeating: 0)
            if rest > 0 { tail.baseAddress!.copyMemory(from: bytes.baseAddress! + whole, byteCount: rest) }
            tail[rest] = 0x80
            let blocks = rest < 56 ? 1 : 2
            tail.storeBytes(of: (UInt64(bytes.count) &* 8).littleEndian, toByteOffset: blocks * 64 - 8, as: UInt64.self)
            for block in 0..<blocks {
                compress(&state, UnsafeRawBufferPointer(UnsafeMutableRawBufferPointer(rebasing: tail[(block * 64)..<(block * 64 + 64)])))
            }
        }
        // The digest is A, B, C, D in little-endian byte order; read big-endian, A's bytes come first.
        let high = UInt64(state.0.byteSwapped) << 32 | UInt64(state.1.byteSwapped)
        let low = UInt64(state.2.byteSwapped) << 32 | UInt64(state.3.byteSwapped)
        return UInt128(high) << 64 | UInt128(low)
    }

    @inline(__always)
    private static func f(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ m: UInt32, _ k: UInt32, _ s: UInt32) -> UInt32 {
        b &+ (a &+ ((b & c) | (~b & d)) &+ k &+ m).rotatedLeft(s)
    }

    @inline(__always)
    private static func g(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ m: UInt32, _ k: UInt32, _ s: UInt32) -> UInt32 {
        b &+ (a &+ ((b & d) | (c & ~d)) &+ k &+ m).rotatedLeft(s)
    }

    @inline(__always)
    private static func h(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ m: UInt32, _ k: UInt32, _ s: UInt32) -> UInt32 {
        b &+ (a &+ (b ^ c ^ d) &+ k &+ m).rotatedLeft(s)
    }

    @inline(__always)
    private static func i(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: UInt32, _ m: UInt32, _ k: UInt32, _ s: UInt32) -> UInt32 {
        b &+ (a &+ (c ^ (b | ~d)) &+ k &+ m).rotatedLeft(s)
    }

    /// One 64-byte block: the 64 steps of RFC 1321 §3.4, unrolled.
    private static func compress(_ state: inout (UInt32, UInt32, UInt32, UInt32), _ block: UnsafeRawBufferPointer) {
        let m0 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
        let m1 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        let m2 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        let m3 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        let m4 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 16, as: UInt32.self))
        let m5 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 20, as: UInt32.self))
        let m6 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 24, as: UInt32.self))
        let m7 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 28, as: UInt32.self))
        let m8 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 32, as: UInt32.self))
        let m9 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 36, as: UInt32.self))
        let m10 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 40, as: UInt32.self))
        let m11 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 44, as: UInt32.self))
        let m12 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 48, as: UInt32.self))
        let m13 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 52, as: UInt32.self))
        let m14 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 56, as: UInt32.self))
        let m15 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 60, as: UInt32.self))
        var (a, b, c, d) = state
        a = f(a, b, c, d, m0, 0xd76aa478, 7)
        d = f(d, a, b, c, m1, 0xe8c7b756, 12)
        c = f(c, d, a, b, m2, 0x242070db, 17)
        b = f(b, c, d, a, m3, 0xc1bdceee, 22)
        a = f(a, b, c, d, m4, 0xf57c0faf, 7)
        d = f(d, a, b, c, m5, 0x4787c62a, 12)
        c = f(c, d, a, b, m6, 0xa8304613, 17)
        b = f(b, c, d, a, m7, 0xfd469501, 22)
        a = f(a, b, c, d, m8, 0x698098d8, 7)
        d = f(d, a, b, c, m9, 0x8b44f7af, 12)
        c = f(c, d, a, b, m10, 0xffff5bb1, 17)
        b = f(b, c, d, a, m11, 0x895cd7be, 22)
        a = f(a, b, c, d, m12, 0x6b901122, 7)
        d = f(d, a, b, c, m13, 0xfd987193, 12)
        c = f(c, d, a, b, m14, 0xa679438e, 17)
        b = f(b, c, d, a, m15, 0x49b40821, 22)
        a = g(a, b, c, d, m1, 0xf61e2562, 5)
        d = g(d, a, b, c, m6, 0xc040b340, 9)
        c = g(c, d, a, b, m11, 0x265e5a51, 14)
        b = g(b, c, d, a, m0, 0xe9b6c7aa, 20)
        a = g(a, b, c, d, m5, 0xd62f105d, 5)
        d = g(d, a, b, c, m10, 0x02441453, 9)
        c = g(c, d, a, b, m15, 0xd8a1e681, 14)
        b = g(b, c, d, a, m4, 0xe7d3fbc8, 20)
        a = g(a, b, c, d, m9, 0x21e1cde6, 5)
        d = g(d, a, b, c, m14, 0xc33707d6, 9)
        c = g(c, d, a, b, m3, 0xf4d50d87, 14)
        b = g(b, c, d, a, m8, 0x455a14ed, 20)
        a = g(a, b, c, d, m13, 0xa9e3e905, 5)
        d = g(d, a, b, c, m2, 0xfcefa3f8, 9)
        c = g(c, d, a, b, m7, 0x676f02d9, 14)
        b = g(b, c, d, a, m12, 0x8d2a4c8a, 20)
        a = h(a, b, c, d, m5, 0xfffa3942, 4)
        d = h(d, a, b, c, m8, 0x8771f681, 11)
        c = h(c, d, a, b, m11, 0x6d9d6122, 16)
        b = h(b, c, d, a, m14, 0xfde5380c, 23)
        a = h(a, b, c, d, m1, 0xa4beea44, 4)
        d = h(d, a, b, c, m4, 0x4bdecfa9, 11)
        c = h(c, d, a, b, m7, 0xf6bb4b60, 16)
        b = h(b, c, d, a, m10, 0xbebfbc70, 23)
        a = h(a, b, c, d, m13, 0x289b7ec6, 4)
        d = h(d, a, b, c, m0, 0xeaa127fa, 11)
        c = h(c, d, a, b, m3, 0xd4ef3085, 16)
        b = h(b, c, d, a, m6, 0x04881d05, 23)
        a = h(a, b, c, d, m9, 0xd9d4d039, 4)
        d = h(d, a, b, c, m12, 0xe6db99e5, 11)
        c = h(c, d, a, b, m15, 0x1fa27cf8, 16)
        b = h(b, c, d, a, m2, 0xc4ac5665, 23)
        a = i(a, b, c, d, m0, 0xf4292244, 6)
        d = i(d, a, b, c, m7, 0x432aff97, 10)
        c = i(c, d, a, b, m14, 0xab9423a7, 15)
        b = i(b, c, d, a, m5, 0xfc93a039, 21)
        a = i(a, b, c, d, m12, 0x655b59c3, 6)
        d = i(d, a, b, c, m3, 0x8f0ccc92, 10)
        c = i(c, d, a, b, m10, 0xffeff47d, 15)
        b = i(b, c, d, a, m1, 0x85845dd1, 21)
        a = i(a, b, c, d, m8, 0x6fa87e4f, 6)
        d = i(d, a, b, c, m15, 0xfe2ce6e0, 10)
        c = i(c, d, a, b, m6, 0xa3014314, 15)
        b = i(b, c, d, a, m13, 0x4e0811a1, 21)
        a = i(a, b, c, d, m4, 0xf7537e82, 6)
        d = i(d, a, b, c, m11, 0xbd3af235, 10)
        c = i(c, d, a, b, m2, 0x2ad7d2bb, 15)
        b = i(b, c, d, a, m9, 0xeb86d391, 21)
        state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d)
    }
}

extension UInt32 {
    @inline(__always)
    fileprivate func rotatedLeft(_ count: UInt32) -> UInt32 {
        (self &<< count) | (self &>> (32 &- count))
    }
}
