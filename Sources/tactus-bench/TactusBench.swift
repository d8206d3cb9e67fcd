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

    @Option(help: ArgumentHelp("Beat network weight file, 'builtin' (Tactus's own) or 'none' (onset fallback); "
                               + "repeat it to compare models in one run (default: model.path's default)."))
    var model: [String] = []

    @Option(help: "Hops of warm-up excluded from the statistics and the allocation count.")
    var warmup: Int = 200

    @Option(help: "Write the Markdown table to this file as well.")
    var out: String?

    func run() throws {
        let config = TactusConfig()
        let names = model.isEmpty ? [config.modelPath.isEmpty ? "none" : config.modelPath] : model
        let specs = try names.map { $0 == "none" ? nil : try ModelFile.load(path: $0) }
        var signals: [(String, [Float])] = []
        if files.isEmpty {
            signals.append(("example", ExampleSignal().samples))
        } else {
            for f in files {
                signals.append((f, try AudioFileReader.readAll(path: f, sampleRate: config.features.sampleRate)))
            }
        }
        let totalHops = signals.reduce(0) { $0 + $1.1.count / config.features.hopSize + 1 }
        var stages = specs.map { _ in StageTimes(capacity: totalHops) }
        var allocations = specs.map { _ in 0 }
        var countedHops = specs.map { _ in 0 }
        // Models take turns on each signal, so that a busy moment of the machine hits all alike.
        for (_, samples) in signals {
            for (m, spec) in specs.enumerated() {
                let p = try BeatPipeline(config: config, model: spec)
                let (a, n) = measure(p, samples, &stages[m])
                allocations[m] += a
                countedHops[m] += n
            }
        }
        for m in stages.indices { stages[m].sort() }
        let hopSeconds = Double(config.features.hopSize) / config.features.sampleRate
        var report = ""
        for (m, spec) in specs.enumerated() {
            let name = spec.map { "\(names[m]): \($0.networks.count) network(s), \($0.parameterCount) parameters" }
                ?? "onset fallback"
            report += stages[m].markdown(title: "Cost per hop, \(name), \(countedHops[m]) hops",
                                         allocations: allocations[m],
                                         countedHops: countedHops[m], hopSeconds: hopSeconds) + "\n"
        }
        if specs.count > 1 {
            report += "### Side by side (same run)\n\n| model | activation median / p99 µs | total median / p99 µs "
                + "| activation cost / first model's |\n|---|---:|---:|---:|\n"
            let base = stages[0].quantile(stages[0].network, 0.5)
            for m in specs.indices {
                let a = stages[m].quantile(stages[m].network, 0.5), t = stages[m].quantile(stages[m].total, 0.5)
                report += String(format: "| %@ | %.2f / %.2f | %.2f / %.2f | %.2f |\n", names[m], a,
                                 stages[m].quantile(stages[m].network, 0.99), t,
                                 stages[m].quantile(stages[m].total, 0.99),
                                 a / max(base, 1e-9))
            }
        }
        print(report, terminator: "")
        if let out { try report.write(toFile: out, atomically: true, encoding: .utf8) }
        if allocations.contains(where: { $0 != 0 }) { throw ExitCode(3) }
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

    /// Sorts each stage's durations once, for `quantile` (after measuring: sorting allocates).
    mutating func sort() {
        features.sort(); network.sort(); tracker.sort(); total.sort()
    }

    /// Quantile P of V (sorted by `sort()`), in µs.
    func quantile(_ v: [UInt64], _ p: Double) -> Double {
        v.isEmpty ? 0 : Double(v[min(v.count - 1, Int(Double(v.count - 1) * p))]) / 1000
    }

    func markdown(title: String, allocations: Int, countedHops: Int, hopSeconds: Double) -> String {
        let q = quantile
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
