import Foundation

/// A progress line for long loops.
///
/// On a terminal (`isatty`) one line is redrawn in place with `\r`, at most 10 times a
/// second by default (and always for the last step): `label [#####-----] k/total 50% | fields |
/// 12.3 it/s | ETA 0:41`.
/// When the output is not a terminal (a log file, CI) plain lines are printed instead: one
/// for the first update, one when `k` first reaches each quarter of `total` (25 %, 50 %, 75 %, 100 %) or when
/// `interval` seconds (default 10) have passed since the last line; `done()` prints a final
/// line with the elapsed time either way.
public final class Progress {
    public let total: Int
    public let label: String
    public let unit: String
    public let isTerminal: Bool
    public let interval: Double
    /// Least time between two redraws of the in-place line (a notebook wants fewer than a terminal).
    public let redrawInterval: Double
    let write: (String) -> Void
    let clock: () -> Double
    let start: Double
    var lastDraw: Double = -.infinity
    var lastMilestone = 0
    var lastWidth = 0
    public private(set) var current = 0
    public private(set) var lines = 0
    var fields: [(String, String)] = []
    public private(set) var isDone = false

    /// Writes to stdout (terminal detection by isatty(1)) unless `write` is given.
    public init(total: Int, label: String, unit: String = "it", interval: Double = 10,
                isTerminal: Bool? = nil, write: ((String) -> Void)? = nil, clock: (() -> Double)? = nil,
                redrawInterval: Double = 0.1) {
        self.redrawInterval = redrawInterval
        self.total = max(0, total)
        self.label = label
        self.unit = unit
        self.interval = interval
        self.isTerminal = isTerminal ?? (isatty(1) != 0)
        self.write = write ?? { s in fputs(s, stdout); fflush(stdout) }
        self.clock = clock ?? { var ts = timespec(); clock_gettime(CLOCK_MONOTONIC, &ts); return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9 }
        start = self.clock()
    }

    /// Step `k` of `total` reached; `fields` are shown in the given order.
    public func update(_ k: Int, fields: [(String, String)] = []) {
        guard !isDone else { return }
        current = min(max(k, 0), max(total, k))
        self.fields = fields
        let now = clock()
        if isTerminal {
            guard now - lastDraw >= redrawInterval || current >= total else { return }
            lastDraw = now
            let text = line(now: now, bar: true)
            let pad = max(0, lastWidth - text.count)
            lastWidth = text.count
            write("\r" + text + String(repeating: " ", count: pad))
            lines += 1
        } else {
            let quarter = total > 0 ? min(4, current * 4 / total) : 0
            guard quarter > lastMilestone || now - lastDraw >= interval else { return }
            lastMilestone = max(lastMilestone, quarter)
            lastDraw = now
            write(line(now: now, bar: false) + "\n")
            lines += 1
        }
    }

    /// The final line (elapsed time and mean rate); later updates are ignored.
    public func done() {
        guard !isDone else { return }
        isDone = true
        let elapsed = clock() - start
        let rate = elapsed > 0 ? Double(current) / elapsed : 0
        var text = "\(label): done \(current)/\(total) in \(Progress.duration(elapsed))"
        if current > 0 && elapsed > 0 { text += " (\(Progress.rate(rate)) \(unit)/s)" }
        for (k, v) in fields { text += " | \(k) \(v)" }
        if isTerminal {
            let pad = max(0, lastWidth - text.count)
            write("\r" + text + String(repeating: " ", count: pad) + "\n")
        } else {
            write(text + "\n")
        }
        lines += 1
    }

    func line(now: Double, bar: Bool) -> String {
        let elapsed = now - start
        let fraction = total > 0 ? Double(current) / Double(total) : 1
        var text = label
        if bar {
            let width = 24
            let filled = Int((fraction * Double(width)).rounded(.down))
            text += " [" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "]"
        } else {
            text += ":"
        }
        text += " \(current)/\(total) \(Int((fraction * 100).rounded(.down)))%"
        for (k, v) in fields { text += " | \(k) \(v)" }
        if elapsed > 0 && current > 0 {
            let rate = Double(current) / elapsed
            text += " | \(Progress.rate(rate)) \(unit)/s"
            if current < total { text += " | ETA \(Progress.duration(Double(total - current) / rate))" }
        }
        return text
    }

    static func rate(_ r: Double) -> String { r >= 100 ? String(format: "%.0f", r) : r >= 10 ? String(format: "%.1f", r) : String(format: "%.2f", r) }

    /// `m:ss`, or `h:mm:ss` from an hour up.
    static func duration(_ s: Double) -> String {
        guard s.isFinite else { return "?" }
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
    }
}
