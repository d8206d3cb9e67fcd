extension StringProtocol {
    /// The text without leading and trailing blanks (spaces and tabs), as config values are read.
    /// (Foundation's `trimmingCharacters(in:)` is not in FoundationEssentials, which the daemon
    /// limits itself to so that it stays small in memory.)
    public func trimmingBlanks() -> String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isBlank($0) }) else { return "" }
        let last = lastIndex(where: { !isBlank($0) })!
        return String(self[first...last])
    }
}
