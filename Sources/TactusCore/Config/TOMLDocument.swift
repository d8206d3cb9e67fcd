/// A TOML 1.0 document (https://toml.io/en/v1.0.0) read into its leaf values, each with the line it
/// is on, so that every configuration error can name file, line and key.
///
/// Tactus parses TOML itself rather than through TOMLKit: TOMLKit links Foundation and libstdc++
/// into the daemon (about 5 MiB of resident memory, a quarter of its budget), its toml++ core
/// aborted on malformed keys found by fuzzing, and it hands values back without their positions.
public struct TOMLDocument: Sendable {
    public indirect enum Value: Equatable, Sendable {
        case string(String)
        case int(Int)
        case double(Double)
        case bool(Bool)
        /// Offset/local date-time, local date or local time, as written (checked for shape).
        case dateTime(String)
        case array([Value])
        /// Only inside arrays: tables elsewhere are flattened into dotted keys.
        case table([String: Value])

        /// "a string", "an integer", ... for error messages.
        public var typeName: String {
            switch self {
            case .string: "a string"
            case .int: "an integer"
            case .double: "a float"
            case .bool: "a boolean"
            case .dateTime: "a date-time"
            case .array: "an array"
            case .table: "a table"
            }
        }
    }

    public struct Entry: Equatable, Sendable {
        /// Full key path; an element of an array of tables appears as "[n]".
        public var key: [String]
        public var value: Value
        public var line: Int
    }

    /// Leaf values in document order (inline tables and dotted keys flattened).
    public private(set) var entries: [Entry] = []
    /// `[table]` and `[[array]]` headers in document order, with their lines.
    public private(set) var headers: [(key: [String], line: Int, isArray: Bool)] = []

    /// Limits far above any configuration (a few KiB, keys of 2 parts) that keep hostile input
    /// cheap: parsing is linear in the document, and no key path grows past a few hundred parts.
    public static let maxDocumentBytes = 1 << 20
    /// Parts of one dotted key, and of the key path nested inside one value's inline tables.
    public static let maxKeyParts = 64
    /// Arrays and inline tables inside one another.
    public static let maxNesting = 64

    public init(parsing text: String) throws(TOMLError) {
        let utf8 = text.utf8
        if utf8.count > Self.maxDocumentBytes {
            // Name the line where the limit is crossed; nothing past it is read.
            let line = 1 + utf8.prefix(Self.maxDocumentBytes).lazy.filter { $0 == 0x0A }.count
            throw TOMLError(line: line, message: "the document is longer than 1 MiB "
                            + "(\(Self.maxDocumentBytes) bytes), the limit for a configuration")
        }
        var parser = TOMLParser(Array(utf8))
        try parser.parseDocument()
        entries = parser.entries
        headers = parser.headers
    }
}

public struct TOMLError: Error, Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var message: String
    public var description: String { "line \(line): \(message)" }
}

/// The parser's state: a cursor over UTF-8 bytes and what each key path has been defined as.
private struct TOMLParser {
    private enum Defined { case value, inlineTable, headerTable, implicitTable, dottedTable, arrayOfTables }

    let bytes: [UInt8]
    var i = 0
    var line = 1
    var entries: [TOMLDocument.Entry] = []
    var headers: [(key: [String], line: Int, isArray: Bool)] = []
    private var defined: [[String]: Defined] = [:]
    private var arrayCounts: [[String]: Int] = [:]
    /// The table that key/value lines go into (array-of-table elements carry their "[n]").
    private var current: [String] = []
    private var depth = 0
    /// Key parts from the line's key down to the inline table being read (capped like a key).
    private var inlineKeyParts = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    private var atEnd: Bool { i >= bytes.count }
    private var peek: UInt8? { i < bytes.count ? bytes[i] : nil }
    private func peek(_ offset: Int) -> UInt8? { i + offset < bytes.count ? bytes[i + offset] : nil }

    private func fail(_ message: String) -> TOMLError { TOMLError(line: line, message: message) }

    // MARK: document structure

    mutating func parseDocument() throws(TOMLError) {
        while !atEnd {
            skipBlanks()
            guard let c = peek else { break }
            switch c {
            case UInt8(ascii: "#"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): break
            case UInt8(ascii: "["): try parseHeader()
            default:
                guard isKeyStart(c) else { throw unexpected(what: "expected key = value") }
                let keyLine = line
                let key = try parseKey()
                try expect(UInt8(ascii: "="), "expected '=' after the key '\(key.joined(separator: "."))'")
                skipBlanks()
                inlineKeyParts = key.count
                let value = try parseValue()
                try define(key, value, line: keyLine)
            }
            try endOfLine()
        }
    }

    private func unexpected(what: String) -> TOMLError {
        if peek == UInt8(ascii: "\n") || peek == UInt8(ascii: "\r") && peek(1) == UInt8(ascii: "\n") {
            return fail("\(what) before the end of the line")
        }
        var end = i
        while end < bytes.count && bytes[end] != UInt8(ascii: "\n") && end - i < 40 { end += 1 }
        let text = String(decoding: bytes[i..<end], as: UTF8.self)
        if let c = peek, c < 0x20 && c != 0x09 || c == 0x7F {
            return fail("control character 0x\(hex(c)) outside a string")
        }
        if let c = peek, c >= 0x80, let ch = text.first {
            return fail("character '\(ch)' outside a string: keys and sections are ASCII")
        }
        return fail("\(what), got '\(text.trimmingBlanks())'")
    }

    private mutating func parseHeader() throws(TOMLError) {
        let headerLine = line
        let start = i
        i += 1
        let isArray = peek == UInt8(ascii: "[")
        if isArray { i += 1 }
        // A header is one line: without its ']' it is reported as such, whatever follows.
        var end = start
        while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
        guard bytes[start..<end].contains(UInt8(ascii: "]")) else { throw fail("section header without ']'") }
        skipBlanks()
        let key: [String]
        do { key = try parseKey() } catch {
            let text = String(decoding: bytes[start..<end], as: UTF8.self).trimmingBlanks()
            if error.message.hasPrefix("control character") || error.message.hasPrefix("character")
                || error.message.hasPrefix("a key has more than") { throw error }
            throw fail("malformed section header '\(text)': expected [name]")
        }
        guard peek == UInt8(ascii: "]"), !isArray || peek(1) == UInt8(ascii: "]") else {
            let text = String(decoding: bytes[start..<end], as: UTF8.self).trimmingBlanks()
            throw fail("malformed section header '\(text)': expected [name]")
        }
        i += isArray ? 2 : 1
        headers.append((key, headerLine, isArray))
        try openTable(key, isArray: isArray)
    }

    /// `[a.b]` or `[[a.b]]`: checks it against what is defined and makes it the current table.
    private mutating func openTable(_ key: [String], isArray: Bool) throws(TOMLError) {
        let parent = try resolvePrefix(Array(key.dropLast()), creating: .implicitTable, fromHeader: true)
        let path = parent + [key.last!]
        let name = key.joined(separator: ".")
        if isArray {
            switch defined[path] {
            case nil, .arrayOfTables?: break
            default: throw fail("'\(name)' is already defined, not as an array of tables")
            }
            defined[path] = .arrayOfTables
            let n = arrayCounts[path, default: 0]
            arrayCounts[path] = n + 1
            current = path + ["[\(n)]"]
            defined[current] = .headerTable
        } else {
            switch defined[path] {
            case nil: defined[path] = .headerTable
            case .implicitTable?: defined[path] = .headerTable
            case .headerTable?: throw fail("table [\(name)] is defined twice")
            case .arrayOfTables?: throw fail("'\(name)' is already an array of tables")
            default: throw fail("'\(name)' is already defined as a value or by dotted keys")
            }
            current = path
        }
    }

    /// Walks a table path (mapping array-of-tables names to their last element), defining missing
    /// tables as `kind`. Values and inline tables cannot be extended.
    private mutating func resolvePrefix(_ key: [String], creating kind: Defined, fromHeader: Bool,
                                        base: [String] = []) throws(TOMLError) -> [String] {
        var path = base
        for part in key {
            path.append(part)
            switch defined[path] {
            case nil: defined[path] = kind
            case .value?, .inlineTable?:
                throw fail("'\(path.joined(separator: "."))' is a value, not a table")
            case .arrayOfTables?:
                guard fromHeader else { throw fail("'\(path.joined(separator: "."))' is an array of tables") }
                path.append("[\(arrayCounts[path, default: 1] - 1)]")
            case .headerTable?, .implicitTable?:
                // Dotted keys may not reopen a table that a header defined elsewhere.
                if !fromHeader && !current.starts(with: path) {
                    throw fail("'\(path.joined(separator: "."))' is a table defined elsewhere")
                }
            case .dottedTable?:
                break  // [fruit.apple.texture] may add a sub-table to a table made by dotted keys
            }
        }
        return path
    }

    /// Records `key = value` in the current table (dotted keys make tables on the way).
    private mutating func define(_ key: [String], _ value: TOMLDocument.Value, line: Int) throws(TOMLError) {
        let parent = try resolvePrefix(Array(key.dropLast()), creating: .dottedTable, fromHeader: false, base: current)
        let full = parent + [key.last!]
        guard defined[full] == nil else { throw fail("'\(full.joined(separator: "."))' is defined twice") }
        try record(full, value, line: line)
    }

    /// An inline table becomes its leaves (it is closed: nothing may be added to it later).
    private mutating func record(_ path: [String], _ value: TOMLDocument.Value, line: Int) throws(TOMLError) {
        if case .table(let fields) = value {
            defined[path] = .inlineTable
            for name in fields.keys.sorted() { try record(path + [name], fields[name]!, line: line) }
        } else {
            defined[path] = .value
            entries.append(.init(key: path, value: value, line: line))
        }
    }

    // MARK: lexical pieces

    private mutating func skipBlanks() {
        while let c = peek, c == UInt8(ascii: " ") || c == 0x09 { i += 1 }
    }

    /// After a line's content: blanks, an optional comment, then a newline or the end.
    private mutating func endOfLine() throws(TOMLError) {
        skipBlanks()
        if peek == UInt8(ascii: "#") { try skipComment() }
        guard let c = peek else { return }
        if c == UInt8(ascii: "\n") { i += 1; line += 1; return }
        if c == UInt8(ascii: "\r") && peek(1) == UInt8(ascii: "\n") { i += 2; line += 1; return }
        throw unexpected(what: "expected the end of the line")
    }

    /// A comment runs to the end of the line; it may hold any text but control characters.
    private mutating func skipComment() throws(TOMLError) {
        while let c = peek, c != UInt8(ascii: "\n") {
            if c == UInt8(ascii: "\r") && peek(1) == UInt8(ascii: "\n") { return }
            if c < 0x20 && c != 0x09 || c == 0x7F { throw fail("control character 0x\(hex(c)) in a comment") }
            i += 1
        }
    }

    /// Blanks, newlines and comments (inside arrays).
    private mutating func skipWhitespaceAndComments() throws(TOMLError) {
        while let c = peek {
            if c == UInt8(ascii: " ") || c == 0x09 { i += 1 }
            else if c == UInt8(ascii: "\n") { i += 1; line += 1 }
            else if c == UInt8(ascii: "\r") && peek(1) == UInt8(ascii: "\n") { i += 2; line += 1 }
            else if c == UInt8(ascii: "#") { try skipComment() }
            else { return }
        }
    }

    private mutating func expect(_ byte: UInt8, _ message: String) throws(TOMLError) {
        skipBlanks()
        guard peek == byte else { throw atEnd ? fail(message) : unexpected(what: message) }
        i += 1
    }

    private func isBare(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2D
    }

    private func isKeyStart(_ c: UInt8) -> Bool { isBare(c) || c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") }

    /// A simple or dotted key.
    private mutating func parseKey() throws(TOMLError) -> [String] {
        var parts: [String] = []
        while true {
            skipBlanks()
            guard let c = peek else { throw fail("expected a key") }
            if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                if peek(1) == c && peek(2) == c { throw fail("a key cannot be a multi-line string") }
                parts.append(try parseString())
            } else if isBare(c) {
                let start = i
                while let d = peek, isBare(d) { i += 1 }
                parts.append(String(decoding: bytes[start..<i], as: UTF8.self))
            } else {
                throw unexpected(what: "expected a key")
            }
            skipBlanks()
            guard peek == UInt8(ascii: ".") else { return parts }
            // Refused before any more parts are read: every later step walks the key's prefixes.
            guard parts.count < TOMLDocument.maxKeyParts else {
                throw fail("a key has more than \(TOMLDocument.maxKeyParts) dotted parts, the limit")
            }
            i += 1
        }
    }

    // MARK: values

    private mutating func parseValue() throws(TOMLError) -> TOMLDocument.Value {
        guard let c = peek else { throw fail("expected a value") }
        switch c {
        case UInt8(ascii: "\""), UInt8(ascii: "'"): return .string(try parseString())
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "{"): return try parseInlineTable()
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            if matches("true") { i += 4; return .bool(true) }
            if matches("false") { i += 5; return .bool(false) }
            return try parseNumberOrDate()
        default: return try parseNumberOrDate()
        }
    }

    private func matches(_ word: String) -> Bool {
        let w = Array(word.utf8)
        guard i + w.count <= bytes.count, Array(bytes[i..<(i + w.count)]) == w else { return false }
        if let next = (i + w.count < bytes.count ? bytes[i + w.count] : nil), isBare(next) { return false }
        return true
    }

    private mutating func parseArray() throws(TOMLError) -> TOMLDocument.Value {
        depth += 1
        defer { depth -= 1 }
        guard depth <= TOMLDocument.maxNesting else { throw nestedTooDeeply() }
        i += 1
        var values: [TOMLDocument.Value] = []
        while true {
            try skipWhitespaceAndComments()
            guard let c = peek else { throw fail("array without ']'") }
            if c == UInt8(ascii: "]") { i += 1; return .array(values) }
            values.append(try parseValue())
            try skipWhitespaceAndComments()
            if peek == UInt8(ascii: ",") { i += 1; continue }
            guard peek == UInt8(ascii: "]") else {
                throw atEnd ? fail("array without ']'") : unexpected(what: "expected ',' or ']' in an array")
            }
        }
    }

    private func nestedTooDeeply() -> TOMLError {
        fail("arrays and tables nested more than \(TOMLDocument.maxNesting) deep, the limit")
    }

    private mutating func parseInlineTable() throws(TOMLError) -> TOMLDocument.Value {
        depth += 1
        defer { depth -= 1 }
        guard depth <= TOMLDocument.maxNesting else { throw nestedTooDeeply() }
        i += 1
        let table = InlineTable()
        let outerParts = inlineKeyParts
        defer { inlineKeyParts = outerParts }
        skipBlanks()
        if peek == UInt8(ascii: "}") { i += 1; return .table([:]) }
        while true {
            skipBlanks()
            let key = try parseKey()
            try expect(UInt8(ascii: "="), "expected '=' after the key '\(key.joined(separator: "."))'")
            guard outerParts + key.count <= TOMLDocument.maxKeyParts else {
                throw fail("keys nested in inline tables have more than \(TOMLDocument.maxKeyParts) parts, the limit")
            }
            inlineKeyParts = outerParts + key.count
            skipBlanks()
            let value = try parseValue()
            guard table.insert(key[...], value) else {
                throw fail("'\(key.joined(separator: "."))' is defined twice in an inline table")
            }
            skipBlanks()
            if peek == UInt8(ascii: ",") { i += 1; continue }
            guard peek == UInt8(ascii: "}") else {
                throw atEnd ? fail("inline table without '}'")
                    : unexpected(what: "expected ',' or '}' in an inline table")
            }
            i += 1
            return table.value
        }
    }

    /// Basic, literal and multi-line strings (the cursor is on the opening quote).
    private mutating func parseString() throws(TOMLError) -> String {
        let quote = bytes[i]
        let multiline = peek(1) == quote && peek(2) == quote
        i += multiline ? 3 : 1
        if multiline {
            // A newline right after the opening delimiter is trimmed.
            if peek == UInt8(ascii: "\n") { i += 1; line += 1 }
            else if peek == UInt8(ascii: "\r") && peek(1) == UInt8(ascii: "\n") { i += 2; line += 1 }
        }
        var out: [UInt8] = []
        while true {
            guard let c = peek else { throw fail("string without its closing quote") }
            if c == quote {
                if !multiline { i += 1; break }
                if peek(1) == quote && peek(2) == quote {
                    // Up to two more quotes right before the delimiter belong to the string.
                    var run = 3
                    while run < 5 && peek(run) == quote { run += 1 }
                    out.append(contentsOf: repeatElement(quote, count: run - 3))
                    i += run
                    break
                }
                out.append(c); i += 1; continue
            }
            if c == UInt8(ascii: "\n") {
                guard multiline else { throw fail("string without its closing quote on its line") }
                out.append(c); i += 1; line += 1; continue
            }
            if c == UInt8(ascii: "\r") && multiline && peek(1) == UInt8(ascii: "\n") {
                out.append(UInt8(ascii: "\n")); i += 2; line += 1; continue
            }
            if c < 0x20 && c != 0x09 || c == 0x7F { throw fail("control character 0x\(hex(c)) in a string") }
            if c == UInt8(ascii: "\\") && quote == UInt8(ascii: "\"") {
                try parseEscape(into: &out, multiline: multiline)
                continue
            }
            out.append(c); i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func parseEscape(into out: inout [UInt8], multiline: Bool) throws(TOMLError) {
        i += 1
        guard let e = peek else { throw fail("string without its closing quote") }
        i += 1
        switch e {
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let count = e == UInt8(ascii: "u") ? 4 : 8
            guard i + count <= bytes.count,
                  let v = UInt32(String(decoding: bytes[i..<(i + count)], as: UTF8.self), radix: 16),
                  bytes[i..<(i + count)].allSatisfy({ isHexDigit($0) }),
                  let scalar = Unicode.Scalar(v) else { throw fail("invalid \\\(Character(Unicode.Scalar(e))) escape") }
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
            i += count
        case UInt8(ascii: " "), 0x09, UInt8(ascii: "\n"), UInt8(ascii: "\r"):
            // Line-ending backslash (multi-line strings only): the newline and the whitespace
            // after it go.
            guard multiline else { throw fail("invalid escape '\\ '") }
            i -= 1
            var j = i
            while j < bytes.count && (bytes[j] == 0x20 || bytes[j] == 0x09) { j += 1 }
            guard j < bytes.count && (bytes[j] == 0x0A || bytes[j] == 0x0D) else { throw fail("invalid escape '\\ '") }
            i = j
            while let c = peek {
                if c == 0x20 || c == 0x09 { i += 1 }
                else if c == 0x0A { i += 1; line += 1 }
                else if c == 0x0D && peek(1) == 0x0A { i += 2; line += 1 }
                else { break }
            }
        default:
            throw fail("invalid escape '\\\(Character(Unicode.Scalar(e)))'")
        }
    }

    private func isHexDigit(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
    }

    private func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    /// Integers, floats, inf/nan and date-times: the token runs to a delimiter.
    private mutating func parseNumberOrDate() throws(TOMLError) -> TOMLDocument.Value {
        let start = i
        func isTokenByte(_ c: UInt8) -> Bool {
            isBare(c) || c == UInt8(ascii: "+") || c == UInt8(ascii: ".") || c == UInt8(ascii: ":")
        }
        while let c = peek, isTokenByte(c) { i += 1 }
        // A date and a time may be separated by one space: "1979-05-27 07:32:00".
        if i - start == 10, peek == UInt8(ascii: " "), let d = peek(1), isDigit(d), peek(3) == UInt8(ascii: ":") {
            i += 1
            while let c = peek, isTokenByte(c) { i += 1 }
        }
        let token = String(decoding: bytes[start..<i], as: UTF8.self)
        guard !token.isEmpty else { throw unexpected(what: "expected a value") }
        if let v = Self.integer(token) { return .int(v) }
        if let v = Self.float(token) { return .double(v) }
        if Self.isDateTime(token) { return .dateTime(token) }
        if Self.looksNumeric(token) { throw fail("'\(token)' is not a valid number") }
        throw fail("expected a value (a string needs quotes), got '\(token)'")
    }

    private static func looksNumeric(_ t: String) -> Bool {
        guard let f = t.utf8.first else { return false }
        return (f >= 0x30 && f <= 0x39) || f == UInt8(ascii: "+") || f == UInt8(ascii: "-") || f == UInt8(ascii: ".")
    }

    /// Digits with single underscores between them.
    private static func digits(_ s: Substring, _ ok: (Character) -> Bool) -> String? {
        guard let first = s.first, let last = s.last, ok(first), ok(last), !s.contains("__") else { return nil }
        guard s.allSatisfy({ ok($0) || $0 == "_" }) else { return nil }
        return s.replacingUnderscores()
    }

    static func integer(_ t: String) -> Int? {
        let isDec: (Character) -> Bool = { $0.isASCII && $0.isNumber }
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where t.hasPrefix(prefix) {
            let ok: (Character) -> Bool = { c in c.isASCII && c.hexDigitValue.map { $0 < radix } == true }
            guard let d = digits(t.dropFirst(2), ok) else { return nil }
            return Int(d, radix: radix)
        }
        var body = Substring(t)
        if body.first == "+" || body.first == "-" { body = body.dropFirst() }
        guard let d = digits(body, isDec), d.count == 1 || d.first != "0" else { return nil }
        return Int(t.first == "-" ? "-" + d : d)
    }

    static func float(_ t: String) -> Double? {
        var body = Substring(t)
        let negative = body.first == "-"
        if body.first == "+" || body.first == "-" { body = body.dropFirst() }
        if body == "inf" { return negative ? -.infinity : .infinity }
        if body == "nan" { return .nan }
        let isDec: (Character) -> Bool = { $0.isASCII && $0.isNumber }
        let exponentSplit = body.split(separator: "e", maxSplits: 1, omittingEmptySubsequences: false)
        let partsE = exponentSplit.count == 2 ? exponentSplit
            : body.split(separator: "E", maxSplits: 1, omittingEmptySubsequences: false)
        let mantissa = partsE[0]
        var text = ""
        let dot = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = digits(dot[0], isDec), whole.count == 1 || whole.first != "0" else { return nil }
        text = whole
        if dot.count == 2 {
            guard let fraction = digits(dot[1], isDec) else { return nil }
            text += "." + fraction
        }
        if partsE.count == 2 {
            var e = partsE[1]
            var sign = ""
            if e.first == "+" || e.first == "-" { sign = String(e.first!); e = e.dropFirst() }
            guard let exponent = digits(e, isDec) else { return nil }
            text += "e" + sign + exponent
        } else if dot.count == 1 {
            return nil  // an integer, not a float
        }
        return Double((negative ? "-" : "") + text)
    }

    /// RFC 3339 shapes TOML allows: date, time, date-time (T, t or space), with optional
    /// fraction and offset. Checked for shape and field ranges, kept as text.
    static func isDateTime(_ t: String) -> Bool {
        let c = Array(t.utf8)
        func num(_ from: Int, _ count: Int, _ max: Int) -> Bool {
            guard from + count <= c.count else { return false }
            var v = 0
            for k in from..<(from + count) {
                guard c[k] >= 0x30 && c[k] <= 0x39 else { return false }
                v = v * 10 + Int(c[k] - 0x30)
            }
            return v <= max
        }
        func time(_ at: Int) -> Int? {  // returns the index after the time
            guard num(at, 2, 23), c.count > at + 2, c[at + 2] == UInt8(ascii: ":"), num(at + 3, 2, 59),
                  c.count > at + 5, c[at + 5] == UInt8(ascii: ":"), num(at + 6, 2, 60) else { return nil }
            var k = at + 8
            if k < c.count && c[k] == UInt8(ascii: ".") {
                k += 1
                let digitsStart = k
                while k < c.count && c[k] >= 0x30 && c[k] <= 0x39 { k += 1 }
                if k == digitsStart { return nil }
            }
            return k
        }
        if c.count >= 8 && c.count >= 3 && c[2] == UInt8(ascii: ":") { return time(0) == c.count }
        guard c.count >= 10, num(0, 4, 9999), c[4] == UInt8(ascii: "-"), num(5, 2, 12), c[7] == UInt8(ascii: "-"),
              num(8, 2, 31) else { return false }
        if c.count == 10 { return true }
        guard [UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")].contains(c[10]), var k = time(11) else {
            return false
        }
        if k == c.count { return true }
        if c[k] == UInt8(ascii: "Z") || c[k] == UInt8(ascii: "z") { return k + 1 == c.count }
        guard c[k] == UInt8(ascii: "+") || c[k] == UInt8(ascii: "-") else { return false }
        k += 1
        return num(k, 2, 23) && c.count == k + 5 && c[k + 2] == UInt8(ascii: ":") && num(k + 3, 2, 59)
    }

    private func hex(_ c: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(c >> 4)], digits[Int(c & 15)]])
    }
}

/// An inline table under construction: dotted keys inside it build nested tables. Tables are
/// objects so that a key adds to its table in place (copying a table's fields for each of its
/// dotted keys was quadratic).
private final class InlineTable {
    private var values: [String: TOMLDocument.Value] = [:]
    private var tables: [String: InlineTable] = [:]

    /// False when the key is already defined or runs through a value (an inline table value
    /// included: it is closed, as at the top level).
    func insert(_ key: ArraySlice<String>, _ value: TOMLDocument.Value) -> Bool {
        guard let first = key.first, values[first] == nil else { return false }
        if key.count == 1 {
            guard tables[first] == nil else { return false }
            values[first] = value
            return true
        }
        let inner: InlineTable
        if let existing = tables[first] { inner = existing } else { inner = InlineTable(); tables[first] = inner }
        return inner.insert(key.dropFirst(), value)
    }

    var value: TOMLDocument.Value {
        var fields = values
        for (name, table) in tables { fields[name] = table.value }
        return .table(fields)
    }
}

private extension Substring {
    func replacingUnderscores() -> String { String(filter { $0 != "_" }) }
}
