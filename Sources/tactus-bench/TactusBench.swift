import ArgumentParser
import CAllocCounter
import Foundation
import Glibc
import TactusCore
import TactusIO

@main
struct TactusBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tactus-bench",
        abstract: "Benchmarks of the Tactus core.",
        subcommands: [CostCommand.self, SignalsCommand.self],
        defaultSubcommand: CostCommand.self)
}

/// Cost per hop of each pipeline stage (median, p99) and heap allocations per hop in steady state.
struct CostCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cost",
        abstract: "Per-hop cost of each stage (features, network, DBN) and allocations per hop.")

    @Argument(help: "Audio files to run (default: the generated example, 30 s).")
    var files: [String] = []

    @Option(help: "Beat network weight file; without it the onset fallback runs.")
    var model: String?

    @Option(help: "Hops of warm-up excluded from the statistics and the allocation count.")
    var warmup: Int = 200

    @Option(help: "Write the Markdown table to this file as well.")
    var out: String?

    func run() throws {
        let spec = try model.map { try ModelFile.load(path: $0) }
        let config = TactusConfig()
        var signals: [(String, [Float])] = []
        if files.isEmpty {
            signals.append(("example", ExampleSignal().samples))
        } else {
            for f in files { signals.append((f, try AudioFileReader.readAll(path: f, sampleRate: config.features.sampleRate))) }
        }
        let totalHops = signals.reduce(0) { $0 + $1.1.count / config.features.hopSize + 1 }
        var stages = StageTimes(capacity: totalHops)
        var allocations = 0
        var countedHops = 0
        for (_, samples) in signals {
            let p = try BeatPipeline(config: config, model: spec)
            let (a, n) = measure(p, samples, &stages)
            allocations += a
            countedHops += n
        }
        let name = spec == nil ? "onset fallback" : "network (\(spec!.networks.count) nets, \(spec!.parameterCount) parameters)"
        let report = stages.markdown(title: "Cost per hop, \(name), \(countedHops) hops", allocations: allocations,
                                     countedHops: countedHops, hopSeconds: Double(config.features.hopSize) / config.features.sampleRate)
        print(report)
        if let out { try report.write(toFile: out, atomically: true, encoding: .utf8) }
        if allocations != 0 { throw ExitCode(3) }
    }

    /// Runs one signal hop by hop, timing each stage; counts allocations after the warm-up.
    func measure(_ p: BeatPipeline, _ samples: [Float], _ stages: inout StageTimes) -> (Int, Int) {
        let hop = p.config.features.hopSize
        var allocations = 0, counted = 0
        samples.withUnsafeBufferPointer { all in
            var offset = 0
            var hopIndex = 0
            // First sample alone (frame 0 ends at sample 0), then one hop at a time, as capture does.
            var chunk = 1
            while offset < all.count {
                let n = min(chunk, all.count - offset)
                let block = UnsafeBufferPointer(rebasing: all[offset..<(offset + n)])
                let steady = hopIndex >= warmup
                if steady { tactus_alloc_counting_begin() }
                p.framer.push(block) { frame, _ in
                    let t0 = now()
                    p.features.process(frame)
                    let t1 = now()
                    let a = p.activation.process(UnsafePointer(p.features.values.baseAddress!))
                    let t2 = now()
                    _ = p.tracker.process(activation: a)
                    let t3 = now()
                    if steady { stages.add(features: t1 - t0, network: t2 - t1, tracker: t3 - t2) }
                }
                if steady {
                    allocations += tactus_alloc_counting_end()
                    counted += 1
                }
                offset += n
                hopIndex += 1
                chunk = hop
            }
        }
        return (allocations, counted)
    }
}

@inline(__always) func now() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Per-stage durations (ns), preallocated so that measuring does not allocate.
struct StageTimes {
    var features: [UInt64] = []
    var network: [UInt64] = []
    var tracker: [UInt64] = []
    var total: [UInt64] = []

    init(capacity: Int) {
        features.reserveCapacity(capacity); network.reserveCapacity(capacity)
        tracker.reserveCapacity(capacity); total.reserveCapacity(capacity)
    }

    mutating func add(features f: UInt64, network n: UInt64, tracker t: UInt64) {
        features.append(f); network.append(n); tracker.append(t); total.append(f + n + t)
    }

    func markdown(title: String, allocations: Int, countedHops: Int, hopSeconds: Double) -> String {
        func q(_ v: [UInt64], _ p: Double) -> Double {
            let s = v.sorted()
            return s.isEmpty ? 0 : Double(s[min(s.count - 1, Int(Double(s.count - 1) * p))]) / 1000
        }
        var out = "### \(title)\n\n| stage | median µs | p99 µs | mean µs |\n|---|---:|---:|---:|\n"
        for (name, v) in [("features (STFT, filterbank, diff)", features), ("activation", network),
                          ("DBN (forward filter, decision)", tracker), ("total", total)] {
            let mean = v.isEmpty ? 0 : Double(v.reduce(0, +)) / Double(v.count) / 1000
            out += String(format: "| %@ | %.2f | %.2f | %.2f |\n", name, q(v, 0.5), q(v, 0.99), mean)
        }
        let median = q(total, 0.5)
        out += String(format: "\nCore real-time factor at the median: %.0f× (hop %.0f ms / %.2f µs).\n",
                      hopSeconds * 1e6 / max(median, 1e-9), hopSeconds * 1000, median)
        out += "Heap allocations in steady state: \(allocations) over \(countedHops) hops "
        out += String(format: "(%.3f per hop).\n", Double(allocations) / Double(max(countedHops, 1)))
        return out
    }
}
