import DequeModule

/// How far a sequence of records is delivered without a gap: what a checkpoint may record.
///
/// Records are registered in groups (the lines of one read of a file, say), each with a mark (the file offset
/// after its last line). ``mark`` is the mark of the last group that, with every group before it, is wholly
/// delivered: resuming from it loses nothing, and repeats at most the records delivered beyond it.
///
/// Records are numbered from 1 in the order they are registered; give each its number as its ``Record/tag`` and
/// pass the tags ``RunnerConfiguration/deliveryHandler`` hands back to ``acknowledge(_:)``. A group of no records
/// (lines that were all refused as input errors) is complete at once. Memory is one entry and a bit per record
/// for each group beyond the prefix; a record that never arrives (failed for good) holds the prefix there, so that a restart sends it again.
public struct AcknowledgedPrefix<Mark: Sendable>: Sendable {
    private struct Group: Sendable {
        let first: UInt64
        let count: UInt64
        var remaining: UInt64
        let mark: Mark
        /// One bit per record, set once it is delivered: a number told twice must not complete the group early.
        var delivered: [UInt64]

        init(first: UInt64, count: UInt64, mark: Mark) {
            self.first = first
            self.count = count
            self.remaining = count
            self.mark = mark
            self.delivered = Array(repeating: 0, count: Int((count + 63) / 64))
        }
    }

    private var groups: Deque<Group> = []
    private var nextNumber: UInt64 = 1

    /// The mark of the delivered prefix; the starting mark until the first group is complete.
    public private(set) var mark: Mark

    /// An empty sequence whose prefix starts at `mark` (the offset a file is resumed from).
    public init(startingAt mark: Mark) {
        self.mark = mark
    }

    /// Registers the next `count` records, ending at `mark`; returns their numbers.
    @discardableResult
    public mutating func append(count: Int, mark: Mark) -> Range<UInt64> {
        precondition(count >= 0, "a group holds no fewer than zero records")
        let first = nextNumber
        nextNumber += UInt64(count)
        groups.append(Group(first: first, count: UInt64(count), mark: mark))
        _ = advance()
        return first..<nextNumber
    }

    /// Notes record `number` as delivered; `true` when the prefix grew. Each number counts once: an unknown one, one
    /// told before, or one already in the prefix is ignored.
    @discardableResult
    public mutating func acknowledge(_ number: UInt64) -> Bool {
        guard let index = groupIndex(of: number) else { return false }
        let bit = number - groups[index].first
        let word = Int(bit / 64)
        let mask: UInt64 = 1 << (bit % 64)
        guard groups[index].delivered[word] & mask == 0 else { return false }
        groups[index].delivered[word] |= mask
        groups[index].remaining -= 1
        return index == groups.startIndex && advance()
    }

    /// ``acknowledge(_:)`` for each number; `true` when the prefix grew.
    @discardableResult
    public mutating func acknowledge(_ numbers: some Sequence<UInt64>) -> Bool {
        var grew = false
        for number in numbers where acknowledge(number) { grew = true }
        return grew
    }

    /// Records registered and not yet delivered.
    public var undelivered: Int {
        Int(groups.reduce(0) { $0 + $1.remaining })
    }

    /// Records registered beyond the prefix, delivered or not: what a restart from ``mark`` sends again at most.
    public var beyondPrefix: Int {
        Int(groups.reduce(0) { $0 + $1.count })
    }

    /// Pops the complete groups at the front; `true` when there were any.
    private mutating func advance() -> Bool {
        var grew = false
        while let front = groups.first, front.remaining == 0 {
            mark = front.mark
            groups.removeFirst()
            grew = true
        }
        return grew
    }

    /// The group holding `number`: the last one starting at or before it, if `number` is within it.
    private func groupIndex(of number: UInt64) -> Int? {
        var low = groups.startIndex
        var high = groups.endIndex
        while low < high {
            let middle = (low + high) / 2
            if groups[middle].first <= number { low = middle + 1 } else { high = middle }
        }
        guard low > groups.startIndex else { return nil }
        let index = low - 1
        return number < groups[index].first + groups[index].count ? index : nil
    }
}
