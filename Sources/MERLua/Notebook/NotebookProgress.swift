import Foundation
import MEREval

/// eval.progress in a notebook: the terminal bar's in-place line, sent as one display
/// (a display_id) that each redraw replaces, at most twice a second, so a long loop leaves
/// one live line in the notebook instead of thousands.
enum NotebookProgress {
    static func make(total: Int, label: String, unit: String, sink: DisplaySink) -> MEREval.Progress {
        let id = "mer-progress-" + UUID().uuidString.lowercased()
        var shown = false
        weak let weakSink = sink
        weak var bar: MEREval.Progress?
        let progress = MEREval.Progress(total: total, label: label, unit: unit, isTerminal: true, write: { text in
            // The terminal form: "\r" + line + padding (+ "\n" when done).
            let line = text.trimmingCharacters(in: .whitespacesAndNewlines)
            var bundle = ["text/plain": line]
            if let b = bar {
                bundle["text/html"] = "<div style=\"font-family: monospace\"><progress value=\"\(b.current)\" max=\"\(max(b.total, 1))\" style=\"width: 16em; vertical-align: middle\"></progress> \(SVG.escape(line))</div>"
            }
            weakSink?.display(bundle, id: id, update: shown)
            shown = true
        }, redrawInterval: 0.5)
        bar = progress
        return progress
    }
}
