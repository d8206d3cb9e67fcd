/// Tactus weight file, format version 1 (documented in docs/weight-format.md). All integers are
/// little-endian UInt32, all weights little-endian IEEE-754 float32; a CRC-32 closes the file.
public enum WeightFormat {
    public static let magic: [UInt8] = Array("TACTUSNN".utf8)
    public static let version: UInt32 = 1
    /// Largest accepted layer width or input size: far beyond any real beat model, small enough
    /// that a corrupted header cannot request gigabytes.
    public static let maxDimension = 1 << 14
    public static let maxNetworks = 64
    public static let maxLayers = 64
    public static let maxMetadataBytes = 1 << 16

    public enum LayerType: UInt32 { case lstm = 1, dense = 2 }

    /// Parses and validates a weight file's bytes.
    public static func decode(_ bytes: [UInt8]) throws(WeightFileError) -> ModelSpec {
        guard bytes.count >= magic.count + 12 else {
            throw .truncated("file has \(bytes.count) bytes, less than the \(magic.count + 12)-byte header")
        }
        guard Array(bytes[0..<magic.count]) == magic else {
            throw .badMagic("does not start with \"TACTUSNN\": not a Tactus weight file")
        }
        let stored = UInt32(littleEndianBytes: bytes, at: bytes.count - 4)
        let computed = CRC32.checksum(bytes[0..<(bytes.count - 4)])
        var reader = ByteReader(bytes: bytes, end: bytes.count - 4)
        reader.offset = magic.count
        let version = try reader.u32("format version")
        guard version == Self.version else {
            throw .unsupportedVersion("format version \(version); this build reads version \(Self.version)")
        }
        // Checksum after the version check, so an unknown version is named as such.
        guard stored == computed else {
            throw .checksumMismatch(String(format8: stored, computed))
        }
        let metadataLength = try reader.count("metadata length", max: maxMetadataBytes)
        let metadataBytes = try reader.bytes(metadataLength, "metadata")
        guard let metadataText = String(validating: metadataBytes, as: UTF8.self) else {
            throw .invalid("metadata is not valid UTF-8")
        }
        var metadata: [String: String] = [:]
        for line in metadataText.split(separator: "\n") where !line.isEmpty {
            guard let eq = line.firstIndex(of: "=") else {
                throw .invalid("metadata line \"\(line)\" is not key=value")
            }
            metadata[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        let networkCount = try reader.count("network count", max: maxNetworks)
        guard networkCount >= 1 else { throw .invalid("the model has no network") }
        var networks: [NetworkSpec] = []
        for n in 0..<networkCount {
            let layerCount = try reader.count("layer count of network \(n)", max: maxLayers)
            guard layerCount >= 1 else { throw .invalid("network \(n) has no layer") }
            var layers: [LayerSpec] = []
            for l in 0..<layerCount {
                let at = "network \(n), layer \(l)"
                let typeCode = try reader.u32("\(at): type")
                let inputs = try reader.count("\(at): input size", max: maxDimension)
                let units = try reader.count("\(at): output size", max: maxDimension)
                let activationCode = try reader.u32("\(at): activation")
                let flags = try reader.u32("\(at): flags")
                guard inputs > 0, units > 0 else { throw .invalid("\(at): zero-sized layer") }
                guard let activation = Nonlinearity(rawValue: activationCode) else {
                    throw .invalid("\(at): unknown activation code \(activationCode)")
                }
                switch LayerType(rawValue: typeCode) {
                case .lstm:
                    guard flags & ~1 == 0 else { throw .invalid("\(at): unknown LSTM flags \(flags)") }
                    let peep = flags & 1 == 1
                    var gates: [GateWeights] = []
                    for (g, name) in ["input gate", "forget gate", "cell", "output gate"].enumerated() {
                        let w = try reader.floats(inputs * units, "\(at), \(name): input weights")
                        let b = try reader.floats(units, "\(at), \(name): bias")
                        let r = try reader.floats(units * units, "\(at), \(name): recurrent weights")
                        let p = (peep && g != 2) ? try reader.floats(units, "\(at), \(name): peepholes") : nil
                        gates.append(GateWeights(input: w, bias: b, recurrent: r, peephole: p))
                    }
                    let h0 = try reader.floats(units, "\(at): initial output")
                    let c0 = try reader.floats(units, "\(at): initial cell state")
                    layers.append(.lstm(LSTMSpec(inputCount: inputs, units: units, hasPeepholes: peep,
                                                 outputActivation: activation, gates: gates,
                                                 initialOutput: h0, initialCell: c0)))
                case .dense:
                    guard flags == 0 else { throw .invalid("\(at): unknown dense flags \(flags)") }
                    let w = try reader.floats(inputs * units, "\(at): weights")
                    let b = try reader.floats(units, "\(at): bias")
                    layers.append(.dense(DenseSpec(inputCount: inputs, units: units, activation: activation,
                                                   weights: w, bias: b)))
                case nil:
                    throw .invalid("\(at): unknown layer type \(typeCode)")
                }
            }
            networks.append(NetworkSpec(layers: layers))
        }
        guard reader.offset == reader.end else {
            throw .invalid("\(reader.end - reader.offset) unexpected bytes after the last network")
        }
        let model = ModelSpec(metadata: metadata, networks: networks)
        try model.validate()
        return model
    }

    /// Serialises a model (used by tests; the Python converter writes the same bytes).
    public static func encode(_ model: ModelSpec) -> [UInt8] {
        var out = magic
        out.appendLE(version)
        let meta = Array(model.metadata.sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value)\n" }.joined().utf8)
        out.appendLE(UInt32(meta.count))
        out += meta
        out.appendLE(UInt32(model.networks.count))
        for network in model.networks {
            out.appendLE(UInt32(network.layers.count))
            for layer in network.layers {
                switch layer {
                case .lstm(let l):
                    out.appendLE(LayerType.lstm.rawValue)
                    out.appendLE(UInt32(l.inputCount)); out.appendLE(UInt32(l.units))
                    out.appendLE(l.outputActivation.rawValue); out.appendLE(l.hasPeepholes ? 1 : 0)
                    for (g, gate) in l.gates.enumerated() {
                        out.appendLE(gate.input); out.appendLE(gate.bias); out.appendLE(gate.recurrent)
                        if l.hasPeepholes && g != 2 { out.appendLE(gate.peephole ?? []) }
                    }
                    out.appendLE(l.initialOutput); out.appendLE(l.initialCell)
                case .dense(let d):
                    out.appendLE(LayerType.dense.rawValue)
                    out.appendLE(UInt32(d.inputCount)); out.appendLE(UInt32(d.units))
                    out.appendLE(d.activation.rawValue); out.appendLE(0)
                    out.appendLE(d.weights); out.appendLE(d.bias)
                }
            }
        }
        out.appendLE(CRC32.checksum(out[...]))
        return out
    }
}

public enum WeightFileError: Error, Equatable, CustomStringConvertible {
    case truncated(String)
    case badMagic(String)
    case unsupportedVersion(String)
    case checksumMismatch(String)
    case invalid(String)

    public var description: String {
        switch self {
        case .truncated(let s): return "truncated: \(s)"
        case .badMagic(let s), .unsupportedVersion(let s), .invalid(let s): return s
        case .checksumMismatch(let s): return "checksum mismatch (\(s)): the file is corrupted"
        }
    }
}

extension ModelSpec {
    /// Checks that every network is a chain of matching layers ending in one output, with finite
    /// weights and the same input size.
    public func validate() throws(WeightFileError) {
        guard let inputs = networks.first?.layers.first?.inputCount else {
            throw .invalid("the model has no layer")
        }
        for (n, network) in networks.enumerated() {
            var expected = inputs
            for (l, layer) in network.layers.enumerated() {
                guard layer.inputCount == expected else {
                    throw .invalid("network \(n), layer \(l): input size \(layer.inputCount), expected \(expected)")
                }
                expected = layer.outputCount
                let finite: Bool
                switch layer {
                case .lstm(let s):
                    finite = s.gates.allSatisfy { g in
                        g.input.allSatisfy(\.isFinite) && g.bias.allSatisfy(\.isFinite)
                            && g.recurrent.allSatisfy(\.isFinite) && (g.peephole ?? []).allSatisfy(\.isFinite)
                    } && s.initialOutput.allSatisfy(\.isFinite) && s.initialCell.allSatisfy(\.isFinite)
                case .dense(let d):
                    finite = d.weights.allSatisfy(\.isFinite) && d.bias.allSatisfy(\.isFinite)
                }
                guard finite else { throw .invalid("network \(n), layer \(l): weights contain NaN or infinity") }
            }
            guard expected == 1 else {
                throw .invalid("network \(n) ends in \(expected) outputs; a beat model ends in 1")
            }
        }
        try checkNumber(Self.beatOffsetKey, in: -Self.maxBeatOffset...Self.maxBeatOffset,
                        "seconds within ±\(Self.maxBeatOffset)")
        try checkNumber(Self.onsetMixKey, in: 0...1, "a share within 0 ... 1")
    }

    /// A numeric metadata key, when present, must be a number within RANGE (NaN never is).
    private func checkNumber(_ key: String, in range: ClosedRange<Double>, _ expected: String) throws(WeightFileError) {
        if let text = metadata[key] {
            guard let v = Double(text), range.contains(v) else {
                throw .invalid("metadata \(key)=\(text): expected \(expected)")
            }
        }
    }

    /// Metadata key of the share of the onset function mixed into the network's activation
    /// (`BlendedActivation`); absent or 0: the network alone.
    public static let onsetMixKey = "onset_mix"

    /// Share of the onset function in the activation, 0 when the file states none.
    public var onsetMix: Double { metadata[Self.onsetMixKey].flatMap(Double.init) ?? 0 }

    /// Metadata key of the model's timing calibration (s): added to predictive beat times, minus
    /// the mean signed error of its beats against annotations (docs/weight-format.md says where), so
    /// that each network's own lag is corrected, not one network's for all.
    public static let beatOffsetKey = "beat_offset"
    static let maxBeatOffset = 0.1

    /// The model's timing calibration (s), 0 when the file states none.
    public var beatOffset: Double { metadata[Self.beatOffsetKey].flatMap(Double.init) ?? 0 }
}

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the same as zlib's `crc32`.
public enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    public static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes { crc = table[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}

struct ByteReader {
    let bytes: [UInt8]
    let end: Int
    var offset = 0

    mutating func u32(_ what: String) throws(WeightFileError) -> UInt32 {
        guard offset + 4 <= end else { throw .truncated("file ends before \(what) at byte \(offset)") }
        defer { offset += 4 }
        return UInt32(littleEndianBytes: bytes, at: offset)
    }

    mutating func count(_ what: String, max: Int) throws(WeightFileError) -> Int {
        let v = Int(try u32(what))
        guard v <= max else { throw .invalid("\(what) is \(v), more than the limit \(max)") }
        return v
    }

    mutating func bytes(_ n: Int, _ what: String) throws(WeightFileError) -> [UInt8] {
        guard offset + n <= end else { throw .truncated("file ends inside \(what) at byte \(offset)") }
        defer { offset += n }
        return Array(bytes[offset..<(offset + n)])
    }

    mutating func floats(_ n: Int, _ what: String) throws(WeightFileError) -> [Float] {
        guard offset + 4 * n <= end else {
            throw .truncated("file ends inside \(what) at byte \(offset) (needs \(4 * n) bytes)")
        }
        var out = [Float](repeating: 0, count: n)
        for i in 0..<n { out[i] = Float(bitPattern: UInt32(littleEndianBytes: bytes, at: offset + 4 * i)) }
        offset += 4 * n
        return out
    }
}

extension UInt32 {
    init(littleEndianBytes b: [UInt8], at i: Int) {
        self = UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
    }
}

extension String {
    init(format8 stored: UInt32, _ computed: UInt32) {
        func hex(_ v: UInt32) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: 8 - s.count) + s
        }
        self = "stored 0x\(hex(stored)), computed 0x\(hex(computed))"
    }
}

extension Array where Element == UInt8 {
    mutating func appendLE(_ v: UInt32) {
        append(UInt8(v & 0xFF)); append(UInt8(v >> 8 & 0xFF)); append(UInt8(v >> 16 & 0xFF)); append(UInt8(v >> 24))
    }

    mutating func appendLE(_ values: [Float]) {
        for v in values { appendLE(v.bitPattern) }
    }
}
