import ArgumentParser

@main
struct KinesisPusherCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kinesis-pusher",
        abstract: "Get records into AWS Kinesis Data Streams fast and without losing any.",
        subcommands: [DemoCommand.self, CheckCommand.self, PushCommand.self, ReadCommand.self, LocalCommand.self, BenchCommand.self]
    )
}
