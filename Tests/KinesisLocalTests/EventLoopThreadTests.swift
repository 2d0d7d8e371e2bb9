import Foundation
import KinesisLocal
import Testing

@Suite("KinesisLocal event loop threads")
struct EventLoopThreadTests {
    @Test("one kernel thread id per event loop thread, each a live thread of this process other than the main one")
    func threadIDs() async throws {
        let server = try await KinesisLocal.start(.init(threads: 2))
        let ids = try await server.eventLoopThreadIDs()
        let live = ids.filter { FileManager.default.fileExists(atPath: "/proc/self/task/\($0)/stat") }
        try await server.stop()
        #if os(Linux)
        #expect(ids.count == 2)
        #expect(Set(ids).count == 2)
        #expect(live == ids)
        #expect(!ids.contains(getpid()))
        #endif
    }
}
