import TactusCore
import Testing

@Suite struct FramerTests {
    /// Frame i must hold samples i·hop − (N−1) … i·hop, zeros before the stream starts.
    @Test func framesEndAtTheirReferenceSample() {
        let framer = Framer(frameSize: 8, hopSize: 3)
        let samples = (1...20).map(Float.init)
        var frames: [[Float]] = []
        samples.withUnsafeBufferPointer { buf in framer.push(buf) { f, _ in frames.append(Array(f)) } }
        // ceil(20 / 3) = 7 frames, the last ending at sample index 18.
        #expect(frames.count == 7)
        #expect(frames[0] == [0, 0, 0, 0, 0, 0, 0, 1])
        #expect(frames[1] == [0, 0, 0, 0, 1, 2, 3, 4])
        #expect(frames[3] == [3, 4, 5, 6, 7, 8, 9, 10])
        #expect(frames[6] == Array(12...19).map(Float.init))
        #expect(framer.samplesConsumed == 20)
    }

    @Test func chunkingDoesNotChangeFrames() {
        var rng = SplitMix64(seed: 3)
        let samples = (0..<5000).map { _ in Float(rng.nextSigned()) }
        func frames(chunks: [Int]) -> [[Float]] {
            let framer = Framer(frameSize: 2048, hopSize: 441)
            var out: [[Float]] = []
            var offset = 0, c = 0
            samples.withUnsafeBufferPointer { all in
                while offset < all.count {
                    let n = min(chunks[c % chunks.count], all.count - offset)
                    framer.push(UnsafeBufferPointer(rebasing: all[offset..<(offset + n)])) { f, _ in
                        out.append(Array(f))
                    }
                    offset += n; c += 1
                }
            }
            return out
        }
        let whole = frames(chunks: [5000])
        #expect(whole.count == 12)
        #expect(frames(chunks: [1]) == whole)
        #expect(frames(chunks: [441]) == whole)
        #expect(frames(chunks: [7, 1000, 13, 2]) == whole)
    }
}
