import ArgumentParser
import TactusCore

/// Lists every parameter with its default, unit and range.
struct ParamsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "params", abstract: "List every parameter: key, default, unit, range.")

    func run() {
        for p in ParameterTable.all {
            let unit = p.unit.isEmpty ? "" : " \(p.unit)"
            print("\(p.key) = \(p.defaultValue)\(unit)  [\(p.rangeDescription)]  \(p.summary)")
        }
    }
}
