import Testing

@testable import KinesisPusher

@Suite("AcknowledgedPrefix")
struct AcknowledgedPrefixTests {
    @Test("the mark moves only over groups delivered with every group before them")
    func contiguousPrefix() {
        var prefix = AcknowledgedPrefix(startingAt: 100)
        var grew: Bool
        let first = prefix.append(count: 3, mark: 130)
        let second = prefix.append(count: 2, mark: 150)
        #expect(first == 1..<4)
        #expect(second == 4..<6)
        grew = prefix.acknowledge(second)
        #expect(!grew)
        #expect(prefix.mark == 100, "the second group is done, the first not")
        grew = prefix.acknowledge([1, 3])
        #expect(!grew)
        #expect(prefix.mark == 100)
        #expect(prefix.undelivered == 1)
        #expect(prefix.beyondPrefix == 5)
        grew = prefix.acknowledge(2)
        #expect(grew)
        #expect(prefix.mark == 150, "both groups at once")
        #expect(prefix.undelivered == 0)
        #expect(prefix.beyondPrefix == 0)
    }

    @Test("an empty group (lines that were all input errors) completes when the prefix reaches it")
    func emptyGroups() {
        var prefix = AcknowledgedPrefix(startingAt: 0)
        prefix.append(count: 0, mark: 10)
        #expect(prefix.mark == 10, "nothing to wait for")
        let records = prefix.append(count: 1, mark: 20)
        prefix.append(count: 0, mark: 30)
        #expect(prefix.mark == 10)
        prefix.acknowledge(records)
        #expect(prefix.mark == 30)
    }

    @Test("unknown, repeated and already-counted numbers are ignored")
    func strayNumbers() {
        var prefix = AcknowledgedPrefix(startingAt: 0)
        var grew: Bool
        prefix.append(count: 2, mark: 2)
        prefix.append(count: 2, mark: 4)
        grew = prefix.acknowledge(0)
        #expect(!grew)
        grew = prefix.acknowledge(99)
        #expect(!grew)
        grew = prefix.acknowledge([1, 2])
        #expect(grew)
        grew = prefix.acknowledge(1)
        #expect(!grew, "in the prefix already")
        #expect(prefix.mark == 2)
        grew = prefix.acknowledge(3)
        #expect(!grew)
        grew = prefix.acknowledge(3)
        #expect(!grew, "counted already: the group still waits for 4")
        #expect(prefix.mark == 2)
        grew = prefix.acknowledge(4)
        #expect(grew)
        #expect(prefix.mark == 4)
    }

    @Test("random delivery order over many groups: the mark is always the end of the longest delivered prefix")
    func randomOrder() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            var prefix = AcknowledgedPrefix(startingAt: -1)
            var groups: [Range<UInt64>] = []
            for index in 0..<50 { groups.append(prefix.append(count: Int.random(in: 0...5, using: &generator), mark: index)) }
            var delivered = Set<UInt64>()
            for number in groups.flatMap({ Array($0) }).shuffled(using: &generator) {
                prefix.acknowledge(number)
                delivered.insert(number)
                let expected = groups.prefix { $0.allSatisfy(delivered.contains) }.count - 1
                #expect(prefix.mark == expected)
            }
            #expect(prefix.mark == 49)
        }
    }
}
