import ArgumentParser

@main
struct Tactus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tactus",
        abstract: "Real-time beat tracker: beats from live audio or files.",
        version: TactusVersion.string,
        subcommands: [TrackCommand.self, FeaturesCommand.self, RunCommand.self, MonitorCommand.self, CtlCommand.self,
                      DevicesCommand.self, CheckConfigCommand.self, ParamsCommand.self])
}
