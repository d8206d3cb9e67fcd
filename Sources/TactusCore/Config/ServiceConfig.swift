/// Where live audio comes from (the daemon, `tactus run`).
public struct CaptureConfig: Sendable, Equatable {
    public enum Source: String, Sendable, CaseIterable {
        /// An ALSA capture device.
        case alsa
        /// An audio file played at real-time pace through the same ring and threads (rehearsal, tests).
        case file
    }

    public var source: Source = .alsa
    /// ALSA device name: `default`, `hw:CARD=...,DEV=0`, `plughw:...`, or a PCM from asoundrc.
    public var device: String = "default"
    /// Audio file for `source = file`.
    public var file: String = ""
    /// Play the file again from the start when it ends.
    public var loop: Bool = false
    /// Input channel to use (0-based); -1 mixes all channels to mono.
    public var channel: Int = -1
    /// Samples per ALSA period, in hops (441 samples at 44.1 kHz).
    public var periodHops: Int = 1
    /// Capacity of the capture → processing ring (s of audio).
    public var ringSeconds: Double = 2
    /// SCHED_FIFO priority of the capture thread; 0 = ordinary scheduling.
    public var realtimePriority: Int = 70
    /// Longest wait between attempts to open a missing device (s); waits double from 0.25 s.
    public var retryMax: Double = 5

    public init() {}
}

/// Service-wide settings of the daemon.
public struct ServiceConfig: Sendable, Equatable {
    public enum LogLevel: String, Sendable, CaseIterable {
        case debug, info, notice, warning, error
    }

    public var logLevel: LogLevel = .info
    /// How often the status line (systemd STATUS=, log) is refreshed (s).
    public var statusInterval: Double = 1

    public init() {}
}
