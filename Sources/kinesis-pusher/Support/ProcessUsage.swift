import Foundation

/// CPU time and memory of this process, of some of its threads, or of another process, as the kernel counts them:
/// what the benchmarks use to tell the producer's cost from the sink's.
enum ProcessUsage {
    /// User plus system CPU seconds of this whole process (every thread), from `getrusage`.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
            + Double(usage.ru_stime.tv_usec) / 1e6
    }

    /// User plus system CPU seconds of one thread of this process (`/proc/self/task/TID/stat`), in clock ticks
    /// (10 ms each on Linux); nil where it cannot be read.
    static func threadCPUSeconds(_ tid: Int32) -> Double? {
        statCPUSeconds(path: "/proc/self/task/\(tid)/stat")
    }

    /// User plus system CPU seconds of another process (`/proc/PID/stat`, all its threads); nil where it cannot
    /// be read.
    static func processCPUSeconds(pid: Int32) -> Double? {
        statCPUSeconds(path: "/proc/\(pid)/stat")
    }

    /// The largest resident set this process has had, in bytes: `VmHWM` from `/proc/self/status`, else
    /// `ru_maxrss`.
    static func peakResidentBytes() -> Int {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kibibytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        {
            return kibibytes * 1024
        }
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
        #else
        getrusage(RUSAGE_SELF, &usage)
        return usage.ru_maxrss  // bytes on Darwin
        #endif
    }

    /// Fields 14 and 15 (utime, stime) of a `stat` file, counted after the `)` that closes the command name
    /// (which may itself hold spaces or parentheses).
    private static func statCPUSeconds(path: String) -> Double? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // After ")": field 3 (state) is the first; utime and stime are fields 14 and 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
