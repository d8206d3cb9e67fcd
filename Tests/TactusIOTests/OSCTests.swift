import Foundation
import TactusCore
import TactusIO
import Testing

@Suite struct OSCEncodingTests {
    /// The two examples of the OSC 1.0 specification, byte for byte.
    @Test func matchesTheSpecificationsExamples() {
        let frequency = OSCPacket.message(address: "/oscillator/4/frequency", arguments: [.float32(440)])
        #expect(frequency.encoded() == Array("/oscillator/4/frequency".utf8) + [0]
                + Array(",f".utf8) + [0, 0] + [0x43, 0xDC, 0x00, 0x00])
        let foo = OSCPacket.message(address: "/foo", arguments: [
            .int32(1000), .int32(-1), .string("hello"), .float32(1.234), .float32(5.678)])
        let expected: [UInt8] = [
            0x2F, 0x66, 0x6F, 0x6F, 0, 0, 0, 0, 0x2C, 0x69, 0x69, 0x73, 0x66, 0x66, 0, 0,
            0, 0, 0x03, 0xE8, 0xFF, 0xFF, 0xFF, 0xFF, 0x68, 0x65, 0x6C, 0x6C, 0x6F, 0, 0, 0,
            0x3F, 0x9D, 0xF3, 0xB6, 0x40, 0xB5, 0xB2, 0x2D,
        ]
        #expect(foo.encoded() == expected)
    }

    @Test func encodesBlobsBooleansTimetagsAndBundles() {
        let m = OSCPacket.message(address: "/a", arguments: [.blob([1, 2, 3, 4, 5]), .bool(true), .bool(false),
                                                            .timetag(OSCTimeTag(seconds: 7, fraction: 9))])
        #expect(m.encoded() == Array("/a".utf8) + [0, 0] + Array(",bTFt".utf8) + [0, 0, 0]
                + [0, 0, 0, 5, 1, 2, 3, 4, 5, 0, 0, 0] + [0, 0, 0, 7, 0, 0, 0, 9])
        let b = OSCPacket.bundle(timetag: .immediately, elements: [m]).encoded()
        #expect(Array(b[0..<8]) == Array("#bundle".utf8) + [0])
        #expect(Array(b[8..<16]) == [0, 0, 0, 0, 0, 0, 0, 1])
        #expect(Array(b[16..<20]) == [0, 0, 0, UInt8(m.encoded().count)])
        #expect(OSCTimeTag(unixTime: 0) == OSCTimeTag(seconds: 2_208_988_800, fraction: 0))
        #expect(OSCTimeTag(unixTime: 1.5).fraction == 1 << 31)
    }
}

/// python-osc (an independent implementation) decodes what Tactus encodes.
@Suite(.enabled(if: PythonOSC.python != nil, PythonOSC.skipReason))
struct PythonOSCDecodeTests {
    @Test func decodesEveryArgumentTypeAndBundles() throws {
        let packets: [OSCPacket] = [
            .message(address: "/tactus/all",
                     arguments: [.int32(-7), .float32(0.5), .string("beat"), .blob([9, 8, 7]), .bool(true),
                                 .bool(false), .timetag(OSCTimeTag(seconds: 3_900_000_000, fraction: 1 << 31))]),
            .bundle(timetag: OSCTimeTag(unixTime: 1_700_000_000.25), elements: [
                .message(address: "/tactus/beat",
                         arguments: [.int32(12), .float32(120.5), .float32(0.75), .bool(true)]),
                .message(address: "/tactus/tempo", arguments: [.float32(120.5)]),
            ]),
        ]
        let decoded = try PythonOSC.decode(packets.map { $0.encoded() })
        // python-osc shows a timetag argument as (UTC date of the NTP seconds, fraction).
        #expect(decoded[0] == "/tactus/all [-7, 0.5, 'beat', b'\\t\\x08\\x07', True, False, "
                + "(datetime.datetime(2023, 8, 2, 21, 20), 2147483648)]")
        #expect(decoded[1] == "bundle 1700000000.25 [/tactus/beat [12, 120.5, 0.75, True], /tactus/tempo [120.5]]")
    }
}

enum PythonOSC {
    /// A Python with python-osc: $TACTUS_TEST_PYTHON (tools/test.sh makes it), else python3.
    static let python: String? = {
        let candidates = [ProcessInfo.processInfo.environment["TACTUS_TEST_PYTHON"], "/usr/bin/python3",
                          "/usr/local/bin/python3"].compactMap { $0 }
        return candidates.first { path in
            guard FileManager.default.isExecutableFile(atPath: path) else { return false }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: path)
            p.arguments = ["-c", "import pythonosc"]
            p.standardError = FileHandle.nullDevice
            guard (try? p.run()) != nil else { return false }
            p.waitUntilExit()
            return p.terminationStatus == 0
        }
    }()

    static let skipReason: Comment = "python-osc not found: tools/test.sh installs it (TACTUS_TEST_PYTHON)"

    static let decoder = """
        import sys
        from pythonosc.osc_packet import OscPacket
        from pythonosc.osc_bundle import OscBundle
        from pythonosc.osc_message import OscMessage
        def show(x):
            if isinstance(x, OscBundle):
                return "bundle %r [%s]" % (x.timestamp, ", ".join(show(e) for e in x))
            return "%s %r" % (x.address, list(x.params))
        data = open(sys.argv[1], "rb").read()
        while data:
            n = int.from_bytes(data[:4], "big"); d = data[4:4 + n]; data = data[4 + n:]
            print(show(OscBundle(d)) if OscBundle.dgram_is_bundle(d) else show(OscMessage(d)))
        """

    /// Decodes datagrams with python-osc; one printed line per datagram.
    static func decode(_ datagrams: [[UInt8]]) throws -> [String] {
        let file = NSTemporaryDirectory() + "tactus-osc-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: file) }
        var data = Data()
        for d in datagrams {
            data.append(contentsOf: [UInt8(d.count >> 24), UInt8(d.count >> 16 & 0xFF), UInt8(d.count >> 8 & 0xFF),
                                     UInt8(d.count & 0xFF)])
            data.append(contentsOf: d)
        }
        try data.write(to: URL(fileURLWithPath: file))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python!)
        p.arguments = ["-c", decoder, file]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return text.split(separator: "\n").map(String.init)
    }
}

@Suite struct UDPSenderTests {
    /// A datagram socket on loopback to receive what the sender sends.
    final class Receiver {
        let fd: Int32
        let port: UInt16
        init() {
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            _ = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
            }
            var tv = timeval(tv_sec: 1, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            self.fd = fd
            port = UInt16(bigEndian: addr.sin_port)
        }
        deinit { close(fd) }
        func receive() -> [UInt8]? {
            var buffer = [UInt8](repeating: 0, count: 2048)
            let n = recv(fd, &buffer, buffer.count, 0)
            return n > 0 ? Array(buffer[0..<n]) : nil
        }
    }

    @Test func sendsDatagramsOnLoopback() throws {
        let r = Receiver()
        let s = try UDPSender(target: "127.0.0.1:\(r.port)")
        let packet = OSCPacket.message(address: "/tactus/beat", arguments: [.int32(1)]).encoded()
        #expect(s.send(packet))
        #expect(r.receive() == packet)
        #expect(s.sent == 1 && s.errors == 0)
    }

    /// A refusing target (closed port): errors are counted, nothing waits, other targets go on.
    @Test func aRefusingTargetNeitherBlocksNorAffectsOthers() throws {
        var closedPort: UInt16 = 0
        do { closedPort = Receiver().port }  // bound, then closed: nothing listens there now
        let good = Receiver()
        let bad = try UDPSender(target: "127.0.0.1:\(closedPort)")
        let ok = try UDPSender(target: "127.0.0.1:\(good.port)")
        let start = Date()
        for i in 0..<200 {
            bad.send([UInt8(i)])
            #expect(ok.send([UInt8(i)]))
        }
        #expect(Date().timeIntervalSince(start) < 0.5, "200 sends to each took \(Date().timeIntervalSince(start)) s")
        #expect(bad.errors > 0, "ICMP port unreachable shows as ECONNREFUSED on later sends")
        var received = 0
        while good.receive() != nil { received += 1 }
        #expect(received == 200)
    }

    @Test func rejectsMalformedTargets() {
        #expect(throws: OutputError.self) { try UDPSender(target: "localhost") }
    }

    /// A name that does not resolve (yet) is not an error: sends fail and are counted, and the
    /// name is resolved again off this thread (issue 18, item 10).
    @Test func anUnresolvableNameFailsSendsWithoutThrowing() throws {
        let sender = try UDPSender(target: "no.such.host.invalid:9000")
        #expect(sender.lastError == UDPSender.unresolvedError)
        #expect(sender.failureReason.contains("cannot resolve no.such.host.invalid"))
        #expect(!sender.send([1, 2, 3]))
        #expect(sender.errors == 1)
    }

    @Test func reachesIPv6Loopback() throws {
        let fd = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in6()
        addr.sin6_family = sa_family_t(AF_INET6)
        addr.sin6_addr = in6addr_loopback
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
            }
        }
        try #require(bound == 0, "no IPv6 loopback here")
        var len = socklen_t(MemoryLayout<sockaddr_in6>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        let s = try UDPSender(target: "[::1]:\(UInt16(bigEndian: addr.sin6_port))")
        #expect(s.send([1, 2, 3, 4]))
        var buffer = [UInt8](repeating: 0, count: 16)
        var tv = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        #expect(recv(fd, &buffer, 16, 0) == 4)
    }
}

@Suite struct OSCPresetTests {
    func beat(_ count: Int, tempo: Double = 120, predicted: Bool = true) -> BeatEvent {
        BeatEvent(beatTime: Double(count) / 2, emissionTime: Double(count) / 2 - 0.05, tempo: tempo, confidence: 0.9,
                  count: count, predicted: predicted)
    }

    @Test func genericBundlesPredictedBeatsWithTheirTime() {
        var s = OSCSchema(preset: .generic)
        let (now, later) = s.packets(for: beat(3), beatUnixTime: 1_700_000_000.5)
        #expect(later.isEmpty)
        guard case .bundle(let tag, let elements) = now.first else { Issue.record("no bundle"); return }
        #expect(tag == OSCTimeTag(unixTime: 1_700_000_000.5))
        #expect(elements.first == .message(address: "/tactus/beat",
                                           arguments: [.int32(3), .float32(120), .float32(0.9), .bool(true)]))
        var plain = OSCSchema(preset: .generic, timetags: false)
        #expect(plain.packets(for: beat(3), beatUnixTime: 0).now.count == 2, "plain messages, no bundle")
        #expect(s.packets(for: beat(4, predicted: false), beatUnixTime: 0).now.count == 2, "reactive: plain")
    }

    @Test func phaseIsExtrapolatedFromTheLastBeat() {
        let s = OSCSchema(preset: .generic)
        // 120 BPM: a beat every 0.5 s; 0.125 s after a beat is a quarter of the way to the next.
        #expect(s.phasePacket(unixTime: 100.125, lastBeatUnixTime: 100, tempo: 120)
                == .message(address: "/tactus/phase", arguments: [.float32(0.25), .float32(120)]))
        #expect(s.phasePacket(unixTime: 100.875, lastBeatUnixTime: 100, tempo: 120)
                == .message(address: "/tactus/phase", arguments: [.float32(0.75), .float32(120)]))
        // A predicted beat not yet sounded (the beat lies ahead): the phase still runs in [0, 1).
        #expect(s.phasePacket(unixTime: 99.95, lastBeatUnixTime: 100, tempo: 120)
                == .message(address: "/tactus/phase", arguments: [.float32(0.9), .float32(120)]))
        #expect(OSCSchema(preset: .qlcplus).phasePacket(unixTime: 1, lastBeatUnixTime: 0, tempo: 120) == nil)
    }

    @Test func targetEntriesParseWithPresetAndOptions() throws {
        let plain = try OSCTargetSpec("192.168.1.20:7700/qlcplus+plain+lead=0.015")
        #expect(plain.address == "192.168.1.20:7700" && plain.preset == .qlcplus && plain.timetags == false
                && plain.lead == 0.015)
        let v6 = try OSCTargetSpec("[::1]:9000")
        #expect(v6.address == "[::1]:9000" && v6.preset == .generic && v6.timetags == nil && v6.lead == nil)
        #expect(try OSCTargetSpec("239.0.0.1:9000/resolume+bundles").timetags == true)
        #expect { try OSCTargetSpec("h:1/dmx") } throws: { "\($0)".contains("unknown preset 'dmx'") }
        #expect { try OSCTargetSpec("h:1+fast") } throws: { "\($0)".contains("unknown option '+fast'") }
        #expect { try OSCTargetSpec("h:1+lead=0.5") } throws: { "\($0)".contains("+lead=SECONDS") }
    }

    @Test func qlcPlusPressesThenReleases() {
        var s = OSCSchema(preset: .qlcplus, qlcPath: "/beat/button")
        let (now, later) = s.packets(for: beat(1), beatUnixTime: 0)
        #expect(now == [.message(address: "/beat/button", arguments: [.float32(1)])])
        #expect(later == [.message(address: "/beat/button", arguments: [.float32(0)])])
    }

    @Test func resolumeGetsNormalisedTempoAndOneResyncPerLock() {
        var s = OSCSchema(preset: .resolume)
        #expect(s.packets(for: beat(1, tempo: 140, predicted: false), beatUnixTime: 0).now
                == [.message(address: "/composition/tempocontroller/tempo", arguments: [.float32(0.25)])])
        #expect(s.packets(for: beat(2, tempo: 140), beatUnixTime: 0).now.count == 2, "resync on lock")
        #expect(s.packets(for: beat(3, tempo: 140), beatUnixTime: 0).now.count == 1, "not again while locked")
    }

    /// A beat counted into bars: `place` is (beat in bar, bar, phrase bar, phrase).
    func counted(_ count: Int, _ place: (Int, Int, Int, Int), source: BarSource = .count) -> BeatEvent {
        var e = beat(count)
        (e.beatInBar, e.bar, e.phraseBar, e.phrase) = place
        e.meter = 4
        e.barSource = source
        return e
    }

    /// Issue 20: the beat in its bar as /tactus/beat's 5th argument, /tactus/bar and
    /// /tactus/phrase on their first beats, in the beat's bundle.
    @Test func genericSendsTheBarAndThePhrase() {
        var s = OSCSchema(preset: .generic)
        guard case .bundle(_, let first)? = s.packets(for: counted(1, (1, 5, 1, 2)), beatUnixTime: 0).now.first else {
            Issue.record("no bundle"); return
        }
        #expect(first == [
            .message(address: "/tactus/beat",
                     arguments: [.int32(1), .float32(120), .float32(0.9), .bool(true), .int32(1)]),
            .message(address: "/tactus/tempo", arguments: [.float32(120)]),
            .message(address: "/tactus/bar", arguments: [.int32(5)]),
            .message(address: "/tactus/phrase", arguments: [.int32(2)]),
        ])
        guard case .bundle(_, let second)? = s.packets(for: counted(2, (1, 6, 2, 2)), beatUnixTime: 0).now.first,
              case .bundle(_, let third)? = s.packets(for: counted(3, (2, 6, 2, 2)), beatUnixTime: 0).now.first else {
            Issue.record("no bundle"); return
        }
        #expect(second.count == 3, "a bar, not a phrase")
        #expect(third.count == 2, "beat 2: beat and tempo only")
    }

    @Test func qlcPlusHasBarAndPhraseButtons() {
        var s = OSCSchema(preset: .qlcplus, qlcPath: "/b", qlcBarPath: "/bar", qlcPhrasePath: "")
        let (now, later) = s.packets(for: counted(1, (1, 2, 1, 1)), beatUnixTime: 0)
        #expect(now == [.message(address: "/b", arguments: [.float32(1)]),
                        .message(address: "/bar", arguments: [.float32(1)])])
        #expect(later.count == 2, "both released")
        #expect(s.packets(for: counted(2, (2, 2, 1, 1)), beatUnixTime: 0).now.count == 1)
    }

    @Test func resolumeResyncsOnTheOperatorsPhraseStarts() {
        var s = OSCSchema(preset: .resolume)
        #expect(s.packets(for: counted(1, (3, 1, 1, 1)), beatUnixTime: 0).now.count == 2, "resync on lock")
        #expect(s.packets(for: counted(2, (1, 2, 1, 1), source: .operator), beatUnixTime: 0).now.count == 2,
                "the operator's bar 1: resync")
        #expect(s.packets(for: counted(3, (1, 3, 2, 1), source: .operator), beatUnixTime: 0).now.count == 1)
    }

    @Test func grandMA3GetsACommandLineWhenTheTempoMoves() {
        var s = OSCSchema(preset: .grandma3, ma3Command: "Master 3.2 At BPM %bpm")
        #expect(s.packets(for: beat(1, tempo: 120), beatUnixTime: 0).now
                == [.message(address: "/cmd", arguments: [.string("Master 3.2 At BPM 120")])])
        #expect(s.packets(for: beat(2, tempo: 120.3), beatUnixTime: 0).now.isEmpty, "under half a BPM: nothing")
        #expect(s.packets(for: beat(3, tempo: 121.26), beatUnixTime: 0).now
                == [.message(address: "/cmd", arguments: [.string("Master 3.2 At BPM 121.3")])])
    }
}
