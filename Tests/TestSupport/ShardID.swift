/// `shardId-000000000007` for 7, as Kinesis, moto and KinesisLocal name shards.
public func shardID(_ ordinal: Int) -> String {
    let digits = String(ordinal)
    return "shardId-" + String(repeating: "0", count: max(0, 12 - digits.count)) + digits
}
