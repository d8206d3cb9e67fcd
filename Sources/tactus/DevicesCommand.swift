import ArgumentParser
import TactusIO

/// Lists ALSA capture devices and the rates they accept.
struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices", abstract: "List ALSA capture devices and their sample rates.")

    func run() {
        let devices = ALSACapture.devices()
        if devices.isEmpty { print("no ALSA capture devices found") }
        for d in devices {
            let rates: String
            switch ALSACapture.rates(of: d.name) {
            case .success(let r):
                rates = r.isEmpty ? "no standard rate" : r.map(String.init).joined(separator: ", ") + " Hz"
            case .failure(let e): rates = "cannot open: \(e)"
            }
            print("\(d.name)\n    \(d.description)\n    \(rates)")
        }
    }
}
