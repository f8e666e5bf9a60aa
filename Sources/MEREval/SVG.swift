import Foundation
import MERTensor
import MERVision

/// Renders a `Figure` as an SVG document (for report.html, inline). Numbers are written
/// with at most two decimals so identical figures give identical text.
public enum SVG {
    public static let fontFamily = "'DejaVu Sans', Verdana, Arial, sans-serif"

    /// `id` prefixes element ids (gradients), so several figures can share one HTML page.
    public static func render(_ figure: Figure, id: String = "fig") -> String {
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(figure.width)\" height=\"\(figure.height)\" viewBox=\"0 0 \(figure.width) \(figure.height)\" font-family=\"\(fontFamily)\" role=\"img\">\n"
        if !figure.title.isEmpty { out += "<title>\(escape(figure.title))</title>\n" }
        out += "<rect x=\"0\" y=\"0\" width=\"\(figure.width)\" height=\"\(figure.height)\" fill=\"\(figure.background.hex)\"/>\n"
        var gradients = 0
        for shape in figure.shapes {
            switch shape {
            case let .rect(x, y, w, h, fill, stroke, sw):
                out += "<rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(w))\" height=\"\(n(h))\" fill=\"\(fill?.hex ?? "none")\""
                if let s = stroke { out += " stroke=\"\(s.hex)\" stroke-width=\"\(n(sw))\"" }
                out += "/>\n"
            case let .polyline(points, color, w, opacity):
                let pts = points.filter { $0.x.isFinite && $0.y.isFinite }.map { "\(n($0.x)),\(n($0.y))" }.joined(separator: " ")
                out += "<polyline points=\"\(pts)\" fill=\"none\" stroke=\"\(color.hex)\" stroke-width=\"\(n(w))\" stroke-linejoin=\"round\" stroke-linecap=\"round\""
                if opacity < 1 { out += " stroke-opacity=\"\(n(opacity))\"" }
                out += "/>\n"
            case let .circle(x, y, r, fill):
                out += "<circle cx=\"\(n(x))\" cy=\"\(n(y))\" r=\"\(n(r))\" fill=\"\(fill.hex)\"/>\n"
            case let .text(s, x, y, size, color, anchor, rotated, bold):
                out += "<text x=\"\(n(x))\" y=\"\(n(y))\" font-size=\"\(n(size))\" fill=\"\(color.hex)\""
                if anchor != .start { out += " text-anchor=\"\(anchor.rawValue)\"" }
                if bold { out += " font-weight=\"bold\"" }
                if rotated { out += " transform=\"rotate(-90 \(n(x)) \(n(y)))\"" }
                out += ">\(escape(s))</text>\n"
            case let .verticalGradient(x, y, w, h, colors):
                gradients += 1
                let gid = "\(id)-g\(gradients)"
                out += "<defs><linearGradient id=\"\(gid)\" x1=\"0\" y1=\"0\" x2=\"0\" y2=\"1\">"
                for (k, c) in colors.enumerated() {
                    let offset = colors.count == 1 ? 0 : Double(k) / Double(colors.count - 1)
                    out += "<stop offset=\"\(n(offset))\" stop-color=\"\(c.hex)\"/>"
                }
                out += "</linearGradient></defs>\n"
                out += "<rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(w))\" height=\"\(n(h))\" fill=\"url(#\(gid))\"/>\n"
            case let .image(x, y, w, h, image):
                // Embedded as a PNG data URI so the SVG stays one self-contained file.
                out += "<image x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(w))\" height=\"\(n(h))\" preserveAspectRatio=\"none\" style=\"image-rendering:pixelated\" href=\"data:image/png;base64,\(pngBase64(image))\"/>\n"
            }
        }
        out += "</svg>\n"
        return out
    }

    static func pngBase64(_ image: RGBImage) -> String {
        var planar = [Float](repeating: 0, count: image.pixels.count)
        let n = image.width * image.height
        for i in 0..<n { for c in 0..<3 { planar[c * n + i] = image.pixels[3 * i + c] } }
        guard let t = try? Tensor.from(planar, shape: [3, image.height, image.width]),
              let data = try? PNGCodec.encode(t) else { return "" }
        return data.base64EncodedString()
    }

    /// A number with at most two decimals, trailing zeros dropped.
    static func n(_ v: Double) -> String {
        guard v.isFinite else { return "0" }
        var s = String(format: "%.2f", v)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s == "-0" ? "0" : s
    }

    /// Escapes text for XML / HTML content and attributes.
    public static func escape(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }
}
