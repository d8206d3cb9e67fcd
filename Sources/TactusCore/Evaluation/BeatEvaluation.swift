/// Beat-tracking scores for quick checks (the full mir_eval suite lives in bench/).
public enum BeatEvaluation {
    /// F-measure with a ±`window` s tolerance, each annotation matched at most once
    /// (mir_eval's `f_measure` without its 5 s trim).
    public static func fMeasure(detections: [Double], annotations: [Double], window: Double = 0.07) -> Double {
        if detections.isEmpty || annotations.isEmpty { return 0 }
        var used = [Bool](repeating: false, count: annotations.count)
        var hits = 0
        for d in detections {
            var best = -1
            var bestDistance = window
            for (i, a) in annotations.enumerated() where !used[i] && abs(a - d) <= bestDistance {
                best = i
                bestDistance = abs(a - d)
            }
            if best >= 0 { used[best] = true; hits += 1 }
        }
        let precision = Double(hits) / Double(detections.count)
        let recall = Double(hits) / Double(annotations.count)
        return precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
    }
}
