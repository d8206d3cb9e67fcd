// libFuzzer targets for the parsers of untrusted input: the weight-file decoder, the TOML
// configuration, the audio file reader (libsndfile, our checks, soxr), the AppleMIDI session
// packets that arrive from the network and the JSON lines `tactus monitor` reads from the
// daemon's socket. Built by tools/fuzz.sh with -sanitize=fuzzer,address -DFUZZING; the target is
// chosen by the TACTUS_FUZZ_TARGET environment variable (weights | config | audio | applemidi |
// monitor | socket: bytes a client writes to the daemon's JSON-line socket, read as command lines |
// control: an OSC datagram to control.listen, and the same bytes as command text).
import Foundation
import Glibc
import TactusCore
import TactusIO

#if FUZZING
let fuzzTarget = ProcessInfo.processInfo.environment["TACTUS_FUZZ_TARGET"] ?? "weights"
let audioScratch = NSTemporaryDirectory() + "tactus-fuzz-audio-\(getpid())"

/// One server and one connected client for the `socket` target, made once.
let socketPair: (LineSocketServer, Int32) = {
    let path = "/tmp/tactus-fuzz-\(getpid()).sock"
    let server = try! LineSocketServer(path: path)
    server.takesCommands = true
    let client = try! ControlClient.connectUnix(path)
    server.write("")
    return (server, client)
}()

/// libFuzzer's driver, called from our own entry point (SwiftPM names an executable's entry
/// `<module>_main`, so libFuzzer's `main` cannot be used).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

@_cdecl("tactus_fuzz_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzz(data, size) }
}

@_cdecl("LLVMFuzzerTestOneInput")
func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    switch fuzzTarget {
    case "applemidi":
        // Session packets from the network: decode; what decodes must encode to a packet that
        // decodes again, and encoding is stable from then on (names are normalised once: invalid
        // UTF-8 replaced, cut to 63 bytes at a character boundary).
        if let packet = AppleMIDIPacket.decode(bytes) {
            guard let again = AppleMIDIPacket.decode(packet.encoded), again.encoded == packet.encoded else {
                fatalError("AppleMIDI encoding not stable for \(packet)")
            }
        }
    case "audio":
        // The reader takes a path (libsndfile sniffs the format from the bytes): one scratch file.
        let fd = open(audioScratch, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { return 0 }
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        if let reader = try? AudioFileReader(path: audioScratch) {
            var finite = true
            try? reader.read(resampledTo: 44_100) { block in
                for x in block where !x.isFinite { finite = false }
            }
            _ = finite  // float files may carry NaN: the framer repairs them (HostileInputTests)
        }
    case "monitor":
        // Socket bytes in two reads, split where the first byte says (a line may straddle them):
        // whatever they hold, the view must render without trapping, at any clock value.
        var view = MonitorView()
        let split = bytes.first.map { Int($0) % (bytes.count + 1) } ?? 0
        view.ingest(bytes[..<split], now: 1_000_000_000)
        view.ingest(bytes[split...], now: 1_050_000_000)
        _ = view.render(now: 1_100_000_000)
        _ = view.render(now: .max)
        _ = view.takeNotices()
    case "socket":
        // What a client writes to the daemon's JSON-line socket: read as bounded command lines,
        // each decoded (or refused with a reason), and the client still gets its lines afterwards.
        let (server, client) = socketPair
        _ = bytes.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL)) }
        server.readLines { _, line in
            guard let line else { return }
            if case .success(let d) = ControlWire.decode(jsonLine: line) {
                // What decodes must travel: encoded again, it decodes to the same command.
                let again = ControlWire.decode(
                    jsonLine: Array(ControlWire.jsonLine(d.command, id: "x").utf8.dropLast())[...])
                guard case .success(let e) = again, e.command == d.command else {
                    fatalError("JSON command not stable: \(d.command)")
                }
            }
        }
        server.write("{\"v\":1}\n")
        var line = [UInt8](repeating: 0, count: 64)
        guard server.clientCount == 1, recv(client, &line, line.count, Int32(MSG_DONTWAIT)) == 8 else {
            fatalError("the socket client lost its lines after sending \(bytes.count) bytes")
        }
    case "control":
        // An OSC datagram to control.listen: decoded, each message read as a command or refused
        // with a reason; a command read must survive its own encoding (OSC and text).
        if let packet = OSCPacket.decode(bytes) {
            var results: [Result<ControlCommand, ControlParseError>] = []
            ControlWire.decode(osc: packet, into: &results)
            for case .success(let c) in results {
                guard (try? ControlCommand(words: c.words)) == c else { fatalError("command text not stable: \(c)") }
                // Sent again (`tactus ctl --osc`), it reads back as itself: numbers travel as float32,
                // so an integer argument beyond 2^24 is rounded once, then stable.
                var again: [Result<ControlCommand, ControlParseError>] = []
                ControlWire.decode(osc: ControlWire.osc(c), into: &again)
                guard again.count == 1, case .success(let d) = again[0],
                      ControlWire.osc(d).encoded() == ControlWire.osc(c).encoded() else {
                    fatalError("OSC command not stable: \(c)")
                }
            }
        }
        // The same bytes as typed words (`tactus ctl`, `track --control`).
        let words = String(decoding: bytes, as: UTF8.self).split(separator: " ").map(String.init)
        if let c = try? ControlCommand(words: words), (try? ControlCommand(words: c.words)) != c {
            fatalError("command text not stable: \(c)")
        }
        _ = try? TimedCommand(text: String(decoding: bytes, as: UTF8.self))
    case "config":
        _ = try? ConfigFile.parse(String(decoding: bytes, as: UTF8.self), path: "fuzz.toml")
    default:
        // Seal the mutated bytes with a valid CRC, so that the fuzzer explores the structure
        // behind the checksum (the checksum check itself has its own unit test).
        var sealed = bytes
        if sealed.count >= 24 {
            let crc = CRC32.checksum(sealed[0..<(sealed.count - 4)])
            for i in 0..<4 { sealed[sealed.count - 4 + i] = UInt8(crc >> (8 * UInt32(i)) & 0xFF) }
        }
        if let model = try? WeightFormat.decode(sealed) {
            // A model that passes validation must also run.
            let ensemble = NeuralNetworkEnsemble(model)
            let x = [Float](repeating: 0.5, count: model.inputCount)
            _ = x.withUnsafeBufferPointer { ensemble.process($0.baseAddress!) }
        }
    }
    return 0
}
#else
@main
struct FuzzInfo {
    static func main() {
        print("tactus-fuzz: build and run with tools/fuzz.sh (libFuzzer, -sanitize=fuzzer,address)")
    }
}
#endif
