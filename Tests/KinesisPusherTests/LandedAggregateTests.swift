import Testing
import TestSupport

@testable import KinesisPusher

/// An aggregate that landed on a shard the map did not predict, judged alone: kept where the shard owns every
/// member, packed again where it does not, held while the map does not know the shard.
@Suite("Landed aggregates after a reshard")
struct LandedAggregateTests {
    static func aggregate(on shard: String, keys: [String]) -> RunnerStateMachine.LandedAggregate {
        let members = keys.enumerated().map { index, key in
            let record = Record(text: "r\(index)", partitionKey: key)
            return PendingRecord(
                id: UInt64(index), record: record, hash: Fixture.hash(record), size: record.billedSize,
                acceptedAt: Fixture.t0, deadline: nil, completion: .handler
            )
        }
        return .init(shardID: shard, sequenceNumber: "1", members: members)
    }

    @Test("the verdict follows the landing shard's range in the map")
    func verdicts() throws {
        let map = try Fixture.evenMap(2)
        let first = shardID(0), second = shardID(1)
        let onFirst = Fixture.keys(3, routedTo: first, by: map)
        let onSecond = Fixture.keys(1, routedTo: second, by: map)
        #expect(Self.aggregate(on: first, keys: onFirst).verdict(in: map) == .deliver)
        #expect(Self.aggregate(on: first, keys: onFirst + onSecond).verdict(in: map) == .resend)  // one member outside
        #expect(Self.aggregate(on: second, keys: onFirst).verdict(in: map) == .resend)
        #expect(Self.aggregate(on: shardID(7), keys: onFirst).verdict(in: map) == .unknownShard)
        #expect(Self.aggregate(on: first, keys: onFirst).verdict(in: nil) == .unknownShard)
        // After a split the children know their halves: an aggregate of the parent's keys is kept by neither.
        let children = try Fixture.evenMap(4, firstIndex: 2)
        let child = children.entries[0].shardID
        let onChild = Fixture.keys(2, routedTo: child, by: children)
        let onOtherChild = Fixture.keys(1, routedTo: children.entries[1].shardID, by: children)
        #expect(Self.aggregate(on: child, keys: onChild).verdict(in: children) == .deliver)
        #expect(Self.aggregate(on: child, keys: onChild + onOtherChild).verdict(in: children) == .resend)
    }
}
