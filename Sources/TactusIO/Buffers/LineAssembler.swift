/// Cuts bytes that arrive in any pieces into lines (without the newline), holding at most
/// `maxLineBytes` of an unfinished line: a longer line is counted and dropped up to its newline,
/// so a peer that never sends a newline cannot grow our memory.
public struct LineAssembler: Sendable {
    public let maxLineBytes: Int
    /// Lines dropped for being longer than `maxLineBytes`.
    public private(set) var overlongLines = 0
    private var pending: [UInt8] = []
    /// Inside an overlong line: bytes are dropped until its newline.
    private var discarding = false

    public init(maxLineBytes: Int) { self.maxLineBytes = maxLineBytes }

    /// Feeds bytes; `onLine` gets every line they complete.
    public mutating func feed(_ bytes: ArraySlice<UInt8>, onLine: (ArraySlice<UInt8>) -> Void) {
        var rest = bytes
        while !rest.isEmpty {
            guard let newline = rest.firstIndex(of: 0x0A) else {
                if !discarding {
                    if pending.count + rest.count > maxLineBytes {
                        discarding = true
                        overlongLines += 1
                        pending.removeAll()
                    } else {
                        pending.append(contentsOf: rest)
                    }
                }
                return
            }
            let piece = rest[..<newline]
            rest = rest[(newline + 1)...]
            if discarding {
                discarding = false
            } else if pending.count + piece.count > maxLineBytes {
                overlongLines += 1
            } else if pending.isEmpty {
                onLine(piece)
            } else {
                pending.append(contentsOf: piece)
                onLine(pending[...])
            }
            pending.removeAll(keepingCapacity: true)
        }
    }
}
