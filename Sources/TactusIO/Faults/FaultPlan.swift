import Glibc

/// Faults to inject at an I/O boundary, for fault-injection tests: operation number `first…last`
/// (counted from 0 over the whole run) fails with an errno, or (capture only) reads short.
///
/// Spec: comma-separated `NAME@FIRST[-LAST]`, e.g. `EPIPE@100,short@150-152,ENODEV@300`.
/// The daemon takes it from `TACTUS_FAULTS_CAPTURE` / `TACTUS_FAULTS_OSC` in debug builds only;
/// release builds have no way in.
public struct FaultPlan: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        /// A positive errno, or `FaultPlan.shortRead`.
        public var fault: Int32
        public var first: Int
        public var last: Int
    }

    public static let shortRead: Int32 = -1
    public static let none = FaultPlan(entries: [])
    /// The names a spec may use.
    public static let names: [String: Int32] = [
        "EPIPE": EPIPE, "ESTRPIPE": ESTRPIPE, "ENODEV": ENODEV, "EIO": EIO, "EAGAIN": EAGAIN,
        "EHOSTUNREACH": EHOSTUNREACH, "ENETUNREACH": ENETUNREACH, "ENOBUFS": ENOBUFS,
        "ECONNREFUSED": ECONNREFUSED, "EMSGSIZE": EMSGSIZE, "short": shortRead,
    ]

    public let entries: [Entry]
    public var isEmpty: Bool { entries.isEmpty }

    public init(entries: [Entry]) { self.entries = entries }

    public init(_ spec: String) throws(FaultPlanError) {
        var entries: [Entry] = []
        for item in spec.split(separator: ",") {
            let parts = item.split(separator: "@", maxSplits: 1)
            guard parts.count == 2, let code = Self.names[String(parts[0])] else {
                throw FaultPlanError("'\(item)': expected NAME@FIRST[-LAST] with NAME one of "
                                     + "\(Self.names.keys.sorted().joined(separator: ", "))")
            }
            let range = parts[1].split(separator: "-", maxSplits: 1)
            guard let first = Int(range[0]), first >= 0, let last = range.count == 2 ? Int(range[1]) : first,
                  last >= first else {
                throw FaultPlanError("'\(item)': bad operation range")
            }
            entries.append(Entry(fault: code, first: first, last: last))
        }
        self.entries = entries
    }

    /// The fault planned for operation `index`, if any (a scan of a few entries; no allocation).
    @inline(__always)
    public func fault(at index: Int) -> Int32? {
        for e in entries where index >= e.first && index <= e.last { return e.fault }
        return nil
    }
}

public struct FaultPlanError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
