import Foundation
import TactusIO
import Testing

@Suite struct SPSCRingTests {
    @Test func wrapsAroundAndRefusesWhatDoesNotFit() {
        let ring = SPSCRing<Int32>(capacity: 6, filler: 0)
        #expect(ring.capacity == 8)
        var out = [Int32](repeating: -1, count: 8)
        #expect([1, 2, 3, 4, 5].withUnsafeBufferPointer { ring.write($0) })
        #expect(out.withUnsafeMutableBufferPointer { ring.read(into: UnsafeMutableBufferPointer(rebasing: $0[0..<3])) }
                == 3)
        #expect(Array(out[0..<3]) == [1, 2, 3])
        // 2 left + 6 = 8: fits, across the end of the storage.
        #expect([6, 7, 8, 9, 10, 11].withUnsafeBufferPointer { ring.write($0) })
        #expect(![12].withUnsafeBufferPointer { ring.write($0) }, "full: refused whole")
        #expect(ring.overflows == 1)
        #expect(out.withUnsafeMutableBufferPointer { ring.read(into: $0) } == 8)
        #expect(out == [4, 5, 6, 7, 8, 9, 10, 11])
        #expect(ring.available == 0)
    }

    /// Two threads, a sequence number per sample and a checksum: nothing lost, nothing
    /// duplicated, order kept, through millions of wrap-arounds of a small ring.
    @Test func keepsEverySampleInOrderAcrossThreads() async {
        let ring = SPSCRing<UInt32>(capacity: 1024, filler: 0)
        let total: UInt32 = 2_000_000
        let producer = Thread {
            var next: UInt32 = 0
            var block = [UInt32](repeating: 0, count: 441)
            var size = 1
            while next < total {
                let n = min(UInt32(size), total - next)
                for i in 0..<Int(n) { block[i] = next + UInt32(i) }
                let ok = block.withUnsafeBufferPointer { ring.write(UnsafeBufferPointer(rebasing: $0[0..<Int(n)])) }
                if ok { next += n } else { sched_yield() }  // test only: the capture thread drops instead
                size = (size + 37) % 441 + 1
            }
        }
        producer.start()
        var expected: UInt32 = 0
        var checksum: UInt64 = 0
        var disorder = 0
        var buffer = [UInt32](repeating: 0, count: 300)
        let deadline = Date().addingTimeInterval(60)
        while expected < total && Date() < deadline {
            let n = buffer.withUnsafeMutableBufferPointer { ring.read(into: $0) }
            if n == 0 { sched_yield(); continue }
            for v in buffer[0..<n] {
                if v != expected { disorder += 1 }
                checksum &+= UInt64(v)
                expected &+= 1
            }
        }
        #expect(expected == total)
        #expect(disorder == 0)
        #expect(checksum == UInt64(total) * UInt64(total - 1) / 2)
    }
}
