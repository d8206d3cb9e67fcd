import TactusCore
import Testing

@Suite struct WeightFormatTests {
    let model = TestModels.model(networks: 2, inputs: 12, units: 5, layers: 2)

    @Test func roundTrips() throws {
        let bytes = WeightFormat.encode(model)
        #expect(try WeightFormat.decode(bytes) == model)
    }

    @Test func rejectsBadFilesWithAReason() {
        let good = WeightFormat.encode(model)
        func error(_ bytes: [UInt8]) -> WeightFileError? {
            do { _ = try WeightFormat.decode(bytes); return nil } catch { return error }
        }
        #expect(error([]) == .truncated("file has 0 bytes, less than the 20-byte header"))
        var magic = good; magic[0] = UInt8(ascii: "X")
        #expect(error(magic)?.description.contains("not a Tactus weight file") == true)
        var version = good; version[8] = 9
        #expect(error(version)?.description.contains("format version 9") == true)
        var flipped = good; flipped[good.count / 2] ^= 0x10
        #expect(error(flipped)?.description.contains("checksum mismatch") == true)
        // Cut short, with a valid checksum over what is left: still named as truncated.
        var short = Array(good[0..<(good.count - 40)])
        short += [0, 0, 0, 0]
        let crc = CRC32.checksum(short[0..<(short.count - 4)])
        short.replaceSubrange((short.count - 4)...,
                              with: [UInt8(crc & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc >> 16 & 0xFF),
                                     UInt8(crc >> 24)])
        #expect(error(short)?.description.hasPrefix("truncated") == true)
    }

    @Test func rejectsInconsistentModels() {
        var broken = model
        if case .dense(var d) = broken.networks[0].layers[2] {
            d.weights[0] = .nan
            broken.networks[0].layers[2] = .dense(d)
        }
        #expect(throws: WeightFileError.invalid("network 0, layer 2: weights contain NaN or infinity")) {
            try WeightFormat.decode(WeightFormat.encode(broken))
        }
        var mismatched = model
        mismatched.networks[1].layers.removeFirst()
        #expect(throws: WeightFileError.invalid("network 1, layer 0: input size 5, expected 12")) {
            try WeightFormat.decode(WeightFormat.encode(mismatched))
        }
    }

    @Test func crcIsZlibs() {
        #expect(CRC32.checksum(Array("123456789".utf8)[...]) == 0xCBF4_3926)
    }
}

@Suite struct ModelCalibrationTests {
    @Test func beatOffsetIsReadValidatedAndApplied() throws {
        var model = TestModels.model(networks: 1, units: 8, layers: 1)
        #expect(model.beatOffset == 0)
        model.metadata["beat_offset"] = "0.02"
        let decoded = try WeightFormat.decode(WeightFormat.encode(model))
        #expect(decoded.beatOffset == 0.02)
        for bad in ["0.5", "early", "nan"] {
            model.metadata["beat_offset"] = bad
            #expect(throws: WeightFileError.self) { try WeightFormat.decode(WeightFormat.encode(model)) }
        }
        // Predictive beat times move by the model's offset (and by emission.offset on top). The
        // model: one dense layer that sums the positive differences (a spectral flux) and squashes.
        func beats(_ offset: String?, trim: Double = 0) throws -> [Double] {
            let flux = DenseSpec(inputCount: 162, units: 1, activation: .sigmoid,
                                 weights: [Float](repeating: 0, count: 81) + [Float](repeating: 0.5, count: 81),
                                 bias: [-4])
            var m = ModelSpec(metadata: [:], networks: [NetworkSpec(layers: [.dense(flux)])])
            m.metadata["beat_offset"] = offset
            var config = TactusConfig()
            config.emission.offset = trim
            let p = try BeatPipeline(config: config, model: m)
            var out: [Double] = []
            ExampleSignal(duration: 10).samples.withUnsafeBufferPointer {
                p.process($0) { if let e = $0.event { out.append(e.beatTime) } }
            }
            return out
        }
        let plain = try beats(nil), shifted = try beats("0.02"), trimmed = try beats("0.02", trim: -0.02)
        #expect(plain.count > 10 && plain.count == shifted.count && plain == trimmed)
        // A later beat leaves at a later frame, whose posterior predicts it a little differently
        // (tens of µs here): the shift holds to well within a millisecond.
        for (a, b) in zip(plain, shifted) { #expect(abs(b - a - 0.02) < 1e-4) }
    }

    /// `onset_mix`: validated, and the pipeline then drives the tracker (and scales the gate) with
    /// (1 − mix)·network + mix·onset function, frame by frame.
    @Test func onsetMixIsValidatedAndBlendsTheActivation() throws {
        var model = TestModels.model(networks: 2, units: 8, layers: 1)
        #expect(model.onsetMix == 0)
        for bad in ["1.5", "-0.1", "half", "nan"] {
            model.metadata["onset_mix"] = bad
            #expect(throws: WeightFileError.self) { try WeightFormat.decode(WeightFormat.encode(model)) }
        }
        model.metadata["onset_mix"] = "0.7"
        let decoded = try WeightFormat.decode(WeightFormat.encode(model))
        #expect(decoded.onsetMix == 0.7)
        let config = TactusConfig()
        let blended = try BeatPipeline(config: config, model: decoded)
        #expect(blended.activation is BlendedActivation)
        #expect(abs(blended.gate.config.gateActivation
                    - (0.3 * config.emission.gateActivation + 0.7 * config.onset.gateActivation)) < 1e-12)
        model.metadata["onset_mix"] = nil
        let network = try BeatPipeline(config: config, model: model)
        let onset = try BeatPipeline(config: config, model: nil)
        #expect(network.activation is NeuralNetworkEnsemble && onset.activation is SpectralFluxOnset)
        func activations(_ p: BeatPipeline) -> [Float] {
            var out: [Float] = []
            ExampleSignal(duration: 5).samples.withUnsafeBufferPointer { p.process($0) { out.append($0.activation) } }
            return out
        }
        let b = activations(blended), n = activations(network), o = activations(onset)
        #expect(b.count == n.count && b.count == o.count && b.count > 400)
        for i in b.indices { #expect(abs(b[i] - (0.3 * n[i] + 0.7 * o[i])) < 1e-6) }
        #expect(zip(b, n).contains { abs($0 - $1) > 0.01 }, "the mix changes the activation")
    }
}
