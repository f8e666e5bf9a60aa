import Foundation

/// report.html: one self-contained page (inline CSS and SVG, no external resources) with
/// the configuration, the pooled metrics, per-class and per-fold tables, the training
/// curves and the confusion matrix.
public enum Report {
    static let css = """
        body { font-family: 'DejaVu Sans', Verdana, Arial, sans-serif; color: #222; margin: 0; background: #f4f5f7; }
        main { max-width: 1160px; margin: 0 auto; padding: 24px 28px 40px; background: #fff; }
        h1 { font-size: 24px; margin: 0 0 4px; }
        h2 { font-size: 18px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid #ddd; }
        p.sub { color: #666; margin: 0 0 16px; font-size: 13px; }
        .cards { display: flex; gap: 16px; flex-wrap: wrap; }
        .card { flex: 1 1 160px; border: 1px solid #d8dde6; border-radius: 6px; padding: 12px 16px; background: #f8fafc; }
        .card .k { font-size: 12px; color: #666; text-transform: uppercase; letter-spacing: .04em; }
        .card .v { font-size: 28px; font-weight: bold; margin-top: 4px; }
        .card .s { font-size: 12px; color: #666; margin-top: 2px; }
        table { border-collapse: collapse; font-size: 13px; margin: 4px 0; }
        th, td { border: 1px solid #d8dde6; padding: 4px 10px; text-align: left; vertical-align: top; }
        th { background: #eef2f7; }
        td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
        table.config td:first-child { color: #555; white-space: nowrap; }
        table.config td { max-width: 820px; word-break: break-word; }
        .figure { overflow-x: auto; margin: 8px 0; }
        .figure svg { max-width: 100%; height: auto; }
        .warn { background: #fff4e5; border: 1px solid #f0c36d; padding: 8px 12px; border-radius: 4px; font-size: 13px; }
        .note { color: #666; font-size: 12px; }
        """

    static func pct(_ v: Double) -> String { String(format: "%.2f%%", v * 100) }
    static func dec(_ v: Double) -> String { String(format: "%.4f", v) }
    static let e = SVG.escape

    public static func html(name: String, settings: [(String, String)], result: RunResult,
                            curvesSVG: String, confusionSVG: String) -> String {
        var h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        h += "<title>\(e(name)) — mer-script report</title>\n<style>\n\(css)\n</style>\n</head>\n<body>\n<main>\n"
        h += "<h1>\(e(name))</h1>\n"
        let n = result.pooled?.count ?? 0
        h += "<p class=\"sub\">\(result.folds.count) fold\(result.folds.count == 1 ? "" : "s"), \(n) test predictions, \(result.classes.count) classes: \(e(result.classes.joined(separator: ", ")))</p>\n"
        for w in result.warnings { h += "<p class=\"warn\">\(e(w))</p>\n" }

        h += "<h2>Pooled test metrics</h2>\n"
        if let p = result.pooled {
            h += "<div class=\"cards\">\n"
            h += card("Accuracy", pct(p.accuracy), "\(p.correct) of \(p.count) correct")
            h += card("UF1", dec(p.uf1), "mean F1 over classes")
            h += card("UAR", dec(p.uar), "mean recall over classes")
            h += card("Per-fold mean", "\(dec(result.perFold.uf1)) UF1", "acc \(pct(result.perFold.accuracy)), UAR \(dec(result.perFold.uar))")
            h += "</div>\n"
            h += "<p class=\"note\">\(e(RunResult.conventions)). The epoch is never chosen on the test fold.</p>\n"

            h += "<h2>Per class (pooled)</h2>\n<table>\n<tr><th>class</th><th class=\"n\">support</th><th class=\"n\">precision</th><th class=\"n\">recall</th><th class=\"n\">F1</th></tr>\n"
            for (k, c) in p.perClass.enumerated() {
                h += "<tr><td>\(e(result.classes[k]))</td><td class=\"n\">\(c.support)</td><td class=\"n\">\(dec(c.precision))</td><td class=\"n\">\(dec(c.recall))</td><td class=\"n\">\(dec(c.f1))</td></tr>\n"
            }
            h += "</table>\n"
        } else {
            h += "<p>No fold results were recorded.</p>\n"
        }

        h += "<h2>Confusion matrix</h2>\n<div class=\"figure\">\n\(confusionSVG)</div>\n"
        h += "<h2>Training curves</h2>\n<div class=\"figure\">\n\(curvesSVG)</div>\n"

        if !result.folds.isEmpty {
            h += "<h2>Per fold</h2>\n<table>\n<tr><th>#</th><th>subject</th><th class=\"n\">n</th><th class=\"n\">accuracy</th><th class=\"n\">UF1</th><th class=\"n\">UAR</th></tr>\n"
            for (k, (f, m)) in zip(result.folds, result.perFold.folds).enumerated() {
                h += "<tr><td class=\"n\">\(k + 1)</td><td>\(e(f.subject))</td><td class=\"n\">\(m.count)</td><td class=\"n\">\(pct(m.accuracy))</td><td class=\"n\">\(dec(m.uf1))</td><td class=\"n\">\(dec(m.uar))</td></tr>\n"
            }
            h += "<tr><th></th><th>mean</th><th class=\"n\">\(result.pooled?.count ?? 0)</th><th class=\"n\">\(pct(result.perFold.accuracy))</th><th class=\"n\">\(dec(result.perFold.uf1))</th><th class=\"n\">\(dec(result.perFold.uar))</th></tr>\n"
            h += "</table>\n"
        }

        h += "<h2>Configuration</h2>\n<table class=\"config\">\n"
        for (k, v) in settings { h += "<tr><td>\(e(k))</td><td>\(e(v))</td></tr>\n" }
        h += "</table>\n</main>\n</body>\n</html>\n"
        return h
    }

    static func card(_ key: String, _ value: String, _ sub: String) -> String {
        "<div class=\"card\"><div class=\"k\">\(e(key))</div><div class=\"v\">\(e(value))</div><div class=\"s\">\(e(sub))</div></div>\n"
    }
}
