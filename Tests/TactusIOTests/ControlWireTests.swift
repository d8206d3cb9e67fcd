import Foundation
import TactusCore
import Testing
@testable import TactusIO

/// Issue 20: commands as they come in, untrusted: OSC datagrams, JSON lines, typed words.
@Suite struct ControlWireTests {
    func commands(_ packet: OSCPacket) -> [Result<ControlCommand, ControlParseError>] {
        var out: [Result<ControlCommand, ControlParseError>] = []
        ControlWire.decode(osc: OSCPacket.decode(packet.encoded())!, into: &out)
        return out
    }

    @Test func everyCommandSurvivesItsOSCAndJSONEncodings() throws {
        let all: [ControlCommand] = [.tap, .half, .double, .nudge(milliseconds: -10), .range(minBPM: 80, maxBPM: 100),
                                     .fullRange, .hold, .release, .downbeat, .meter(3), .phrase(8), .reset]
        for c in all {
            #expect(try ControlCommand(words: c.words) == c)
            #expect(commands(ControlWire.osc(c)).map { try? $0.get() } == [c])
            let line = Array(ControlWire.jsonLine(c, id: "a\"b").utf8.dropLast())
            let d = try ControlWire.decode(jsonLine: line[...]).get()
            #expect(d.command == c)
            #expect(d.id == "\"a\\\"b\"", "the id comes back as JSON text")
        }
    }

    @Test func aTouchOSCButtonIsAPressAndARelease() {
        let press = OSCPacket.message(address: "/tactus/tap", arguments: [.float32(1)])
        let release = OSCPacket.message(address: "/tactus/tap", arguments: [.float32(0)])
        #expect(commands(press).map { try? $0.get() } == [.tap])
        #expect(commands(release).isEmpty, "the release asks for nothing")
        let nudge = OSCPacket.message(address: "/tactus/nudge", arguments: [.int32(-10)])
        #expect(commands(nudge).map { try? $0.get() } == [.nudge(milliseconds: -10)])
        let bundle = OSCPacket.bundle(timetag: .immediately, elements: [
            .message(address: "/tactus/half", arguments: []),
            .message(address: "/tactus/meter", arguments: [.int32(3)]),
        ])
        #expect(commands(bundle).map { try? $0.get() } == [.half, .meter(3)])
    }

    @Test func badOSCCommandsSayWhy() {
        func why(_ p: OSCPacket) -> String? {
            guard case .failure(let e)? = commands(p).first else { return nil }
            return e.message
        }
        #expect(why(.message(address: "/other/tap", arguments: []))?.contains("not /tactus/<command>") == true)
        #expect(why(.message(address: "/tactus/jump", arguments: []))?.contains("unknown command 'jump'") == true)
        #expect(why(.message(address: "/tactus/nudge", arguments: []))?.contains("usage: nudge <ms>") == true)
        #expect(why(.message(address: "/tactus/range", arguments: [.float32(80)]))?.contains("two tempi") == true)
        #expect(why(.message(address: "/tactus/nudge", arguments: [.float32(.nan)]))?.contains("not finite") == true)
        #expect(why(.message(address: "/tactus/meter",
                             arguments: [.float32(3.5)]))?.contains("not a whole number") == true)
        #expect(why(.message(address: "/tactus/half", arguments: [.blob([1])]))?.contains("unsupported") == true)
    }

    @Test func malformedOSCIsNil() {
        let good = OSCPacket.message(address: "/tactus/nudge", arguments: [.float32(5), .string("x")]).encoded()
        #expect(OSCPacket.decode(good) != nil)
        // Every prefix is malformed, but the address alone: a message without type tags (OSC 1.0's
        // allowance for old senders), which asks for no arguments.
        for n in 0..<good.count where n != 16 {
            #expect(OSCPacket.decode(Array(good.prefix(n))) == nil, "truncated to \(n)")
        }
        #expect(OSCPacket.decode(Array(good.prefix(16))) == .message(address: "/tactus/nudge", arguments: []))
        #expect(OSCPacket.decode(Array("/a\0\0,q\0\0".utf8)) == nil, "unknown type tag")
        #expect(OSCPacket.decode(Array("/a\0\0,s\0\0abcd".utf8)) == nil, "string without its NUL")
        #expect(OSCPacket.decode(Array("/a\0\0,b\0\0".utf8) + [0x7F, 0xFF, 0xFF, 0xFF]) == nil,
                "blob longer than the packet")
        // Bundles nested deeper than maxDepth.
        var p = OSCPacket.message(address: "/tactus/tap", arguments: [])
        for _ in 0...OSCPacket.maxDepth { p = .bundle(timetag: .immediately, elements: [p]) }
        #expect(OSCPacket.decode(p.encoded()) == nil)
        #expect(OSCPacket.decode([0x23, 0x62, 0x75, 0x6E]) == nil)
    }

    @Test func jsonCommandsAreCheckedFieldByField() {
        func decode(_ s: String) -> Result<ControlWire.Decoded, ControlParseError> {
            ControlWire.decode(jsonLine: Array(s.utf8)[...])
        }
        #expect((try? decode(#"{"cmd":"nudge","ms":-10}"#).get().command) == .nudge(milliseconds: -10))
        #expect((try? decode(#"{"cmd":"range"}"#).get().command) == .fullRange)
        #expect((try? decode(#"{"cmd":"meter","n":7,"id":12}"#).get())
                == ControlWire.Decoded(command: .meter(7), id: "12"))
        for bad in [#"{"cmd":"nudge"}"#, #"{"cmd":"range","min":80}"#, #"{"cmd":3}"#, "[1,2]", "nudge -10",
                    #"{"cmd":"nudge","ms":"ten"}"#, #"{"cmd":"tap","id":{"x":1}}"#,
                    #"{"cmd":"tap","id":"\#(String(repeating: "x", count: 65))"}"#] {
            #expect((try? decode(bad).get()) == nil, "\(bad)")
        }
        let long = "{\"cmd\":\"tap\",\"pad\":\"" + String(repeating: "x", count: 2000) + "\"}"
        guard case .failure(let e) = decode(long) else { Issue.record("a 2 kB line was read"); return }
        #expect(e.message.contains("longer than 1024"))
    }

    @Test func typedCommandsAndTimedCommands() throws {
        #expect(throws: ControlParseError.self) { try ControlCommand(words: ["nudge", "0x10"]) }
        #expect(throws: ControlParseError.self) { try ControlCommand(words: ["tap", "now"]) }
        #expect(throws: ControlParseError.self) { try ControlCommand(words: []) }
        #expect(try TimedCommand(text: "12.5:nudge -10")
                == TimedCommand(time: 12.5, command: .nudge(milliseconds: -10)))
        #expect(throws: ControlParseError.self) { try TimedCommand(text: "half") }
        #expect(throws: ControlParseError.self) { try TimedCommand(text: "-1:half") }
        // Untrusted names are shown cut and without control characters.
        do { _ = try ControlCommand(words: ["\u{1B}[2J" + String(repeating: "y", count: 100)]) } catch {
            #expect(!error.message.contains("\u{1B}"))
            #expect(error.message.count < 200)
        }
    }

    @Test func theAllowListTakesAddressesAndPrefixes() throws {
        let f = try AddressFilter("192.168.1.0/24, 10.0.0.7, fd00::/8")
        func v4(_ s: String) -> [UInt8] { AddressFilter.address(s)! }
        #expect(f.allows(v4("127.0.0.1")) && f.allows(v4("127.8.9.10")) && f.allows(v4("::1")), "loopback always")
        #expect(f.allows(v4("192.168.1.77")) && !f.allows(v4("192.168.2.1")))
        #expect(f.allows(v4("10.0.0.7")) && !f.allows(v4("10.0.0.8")))
        #expect(f.allows(v4("fd12::1")) && !f.allows(v4("fe80::1")))
        #expect(f.allows(v4("::ffff:192.168.1.3")), "an IPv4-mapped source counts as IPv4")
        #expect(!(try AddressFilter("")).allows(v4("192.168.1.3")), "empty: loopback only")
        #expect(throws: ConfigError.self) { try AddressFilter("192.168.1.0/33") }
        #expect(throws: ConfigError.self) { try AddressFilter("lighting-desk") }
        #expect(throws: ConfigError.self) { try AddressFilter.checkListen("localhost:7710") }
        try AddressFilter.checkListen("[::]:7710")
    }
}
