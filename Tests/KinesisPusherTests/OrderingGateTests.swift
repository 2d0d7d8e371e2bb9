import Testing
import TestSupport

@testable import KinesisPusher

/// The ordering gate alone: which records wait behind a busy key, in what order they come back, and how many.
@Suite("Ordering gate")
struct OrderingGateTests {
    typealias Gate = RunnerStateMachine.OrderingGate

    static func pending(_ id: UInt64, key: String) -> PendingRecord {
        let record = Record(text: "\(key)/\(id)", partitionKey: key)
        return PendingRecord(
            id: id, record: record, hash: Fixture.hash(record), size: record.billedSize, acceptedAt: Fixture.t0 + .milliseconds(Int64(id)),
            deadline: nil, completion: .handler, ordered: true
        )
    }

    @Test("raw: a held key parks its later records; freed, it lets out one head at a time, oldest first")
    func rawOneHeadAtATime() {
        var gate = Gate(aggregated: false)
        var sent = [Self.pending(1, key: "a")]
        gate.hold(&sent)
        #expect(sent[0].holdsKey && gate.isBusy(sent[0].orderingKey))
        let later = [Self.pending(2, key: "a"), Self.pending(3, key: "a")]
        let other = Self.pending(4, key: "b")
        #expect(gate.mustPark(later[0]) && !gate.mustPark(other))
        // Parked out of order (a retry coming back late), kept in acceptance order.
        gate.park(later[1])
        gate.park(later[0])
        #expect(gate.parkedCount == 2)
        let key = sent[0].orderingKey
        let whileBusy = gate.unpark(key)
        #expect(whileBusy.isEmpty)
        let freed = gate.release(&sent[0])
        #expect(freed && !sent[0].holdsKey && !gate.isBusy(key))
        let freedAgain = gate.release(&sent[0])
        #expect(!freedAgain)  // releasing twice frees nothing
        var heads = gate.unpark(key)
        #expect(heads.map(\.id) == [2] && heads[0].isKeyHead)
        // The head goes ahead of the key's parked records; a newcomer does not.
        #expect(!gate.mustPark(heads[0]))
        #expect(gate.mustPark(Self.pending(5, key: "a")))
        gate.headLeft(&heads[0])
        #expect(!heads[0].isKeyHead)
        let next = gate.unpark(key)
        #expect(next.map(\.id) == [3])
        let none = gate.unpark(key)
        #expect(gate.parkedCount == 0 && none.isEmpty)
    }

    @Test("a key is busy until its last record in flight is released")
    func busyUntilLastRelease() {
        var gate = Gate(aggregated: true)
        var call = [Self.pending(1, key: "a"), Self.pending(2, key: "a")]
        gate.hold(&call)
        let first = gate.release(&call[0])
        #expect(!first && gate.isBusy(call[0].orderingKey))
        let last = gate.release(&call[1])
        #expect(last)
        #expect(!gate.isBusy(call[0].orderingKey))
    }

    @Test("aggregated: a freed key lets out an aggregate's worth of heads; later ones wait behind heads still waiting, older ones join them")
    func aggregatedHeads() {
        var gate = Gate(aggregated: true)
        var sent = [Self.pending(1, key: "a")]
        gate.hold(&sent)
        let key = sent[0].orderingKey
        for id in UInt64(2)...UInt64(Gate.aggregatedHeads + 11) { gate.park(Self.pending(id, key: "a")) }
        _ = gate.release(&sent[0])
        var heads = gate.unpark(key)
        #expect(heads.count == Gate.aggregatedHeads && heads.first?.id == 2)
        #expect(gate.parkedCount == 10)
        // While those heads wait, newer parked records stay parked.
        let behindHeads = gate.unpark(key)
        #expect(behindHeads.isEmpty)
        // The front head parked again (its call closed): older than the parked records, it comes back at once.
        var reparked = heads.removeFirst()
        gate.park(reparked)
        let again = gate.unpark(key)
        #expect(again.map(\.id) == [reparked.id])
        // Once every head has left, the rest come out.
        for index in heads.indices { gate.headLeft(&heads[index]) }
        reparked = again[0]
        gate.headLeft(&reparked)
        let rest = gate.unpark(key)
        #expect(rest.map(\.id) == Array(UInt64(Gate.aggregatedHeads + 2)...UInt64(Gate.aggregatedHeads + 11)))
    }

    @Test("removing every parked record empties the gate; the oldest parked acceptance is the earliest front")
    func removeAllParked() {
        var gate = Gate(aggregated: false)
        var sent = [Self.pending(1, key: "a"), Self.pending(2, key: "b")]
        gate.hold(&sent)
        gate.park(Self.pending(5, key: "a"))
        gate.park(Self.pending(3, key: "b"))
        gate.park(Self.pending(4, key: "b"))
        #expect(gate.oldestParkedAcceptance == Fixture.t0 + .milliseconds(3))
        let removed = gate.removeAllParked()
        #expect(removed.map(\.id).sorted() == [3, 4, 5])
        #expect(gate.parkedCount == 0 && gate.oldestParkedAcceptance == nil)
    }
}
