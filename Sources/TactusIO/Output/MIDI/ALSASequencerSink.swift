import CALSA
import Glibc

/// MIDI clock to the ALSA sequencer: a client named `clientName` with one output port others can
/// subscribe to (`aconnect`, a DAW, a USB MIDI interface), optionally connected at start to a
/// named port ("client:port" or a client name). Messages are scheduled on the client's own
/// queue at their exact time (real-time stamps), so the kernel, not this thread's wake-up,
/// decides when a tick leaves. Needs /dev/snd/seq.
public final class ALSASequencerSink: @unchecked Sendable {
    private let seq: OpaquePointer
    private let port: Int32
    private let queue: Int32
    /// CLOCK_MONOTONIC time (ns) at which the queue's clock read 0.
    private let queueStart: Int64
    public private(set) var sent = 0
    public private(set) var errors = 0
    public let clientName: String

    public init(clientName: String = "Tactus", portName: String = "clock", connectTo: String = "") throws(OutputError) {
        self.clientName = clientName
        tactus_alsa_silence_errors()
        var handle: OpaquePointer?
        let rc = snd_seq_open(&handle, "default", Int32(SND_SEQ_OPEN_OUTPUT), Int32(SND_SEQ_NONBLOCK))
        guard rc == 0, let handle else {
            let hint = access("/dev/snd/seq", F_OK) != 0
                ? " (/dev/snd/seq is absent: load snd-seq, or run where a sound card is)" : ""
            throw OutputError("ALSA sequencer: \(String(cString: snd_strerror(rc)))\(hint)")
        }
        seq = handle
        snd_seq_set_client_name(seq, clientName)
        port = snd_seq_create_simple_port(seq, portName,
                                          UInt32(SND_SEQ_PORT_CAP_READ | SND_SEQ_PORT_CAP_SUBS_READ),
                                          UInt32(SND_SEQ_PORT_TYPE_MIDI_GENERIC | SND_SEQ_PORT_TYPE_APPLICATION))
        queue = snd_seq_alloc_named_queue(seq, "tactus-clock")
        guard port >= 0, queue >= 0 else {
            let why = String(cString: snd_strerror(port < 0 ? port : queue))
            snd_seq_close(seq)
            throw OutputError("ALSA sequencer: cannot create the port or queue: \(why)")
        }
        snd_seq_control_queue(seq, queue, Int32(SND_SEQ_EVENT_START.rawValue), 0, nil)
        snd_seq_drain_output(seq)
        queueStart = MonotonicClock.nanos()
        if !connectTo.isEmpty {
            var address = snd_seq_addr_t()
            let parsed = snd_seq_parse_address(seq, &address, connectTo)
            let connected = parsed == 0
                ? snd_seq_connect_to(seq, port, Int32(address.client), Int32(address.port)) : parsed
            if connected < 0 {
                snd_seq_close(seq)
                throw OutputError(
                    "ALSA sequencer: cannot connect to '\(connectTo)': \(String(cString: snd_strerror(connected)))")
            }
        }
    }

    deinit { snd_seq_close(seq) }

    /// Schedules `message` (clock, transport, song position) at `hostNanos` (CLOCK_MONOTONIC).
    @discardableResult
    public func send(_ message: [UInt8], at hostNanos: Int64) -> Bool {
        guard let status = message.first else { return false }
        let t = max(0, hostNanos - queueStart)
        let value = message.count >= 3 ? Int32(message[1]) | Int32(message[2]) << 7 : 0
        let rc = tactus_seq_send(seq, port, queue, UInt32(t / 1_000_000_000), UInt32(t % 1_000_000_000), status, value)
        if rc >= 0 { sent += 1 } else { errors += 1 }
        return rc >= 0
    }
}
