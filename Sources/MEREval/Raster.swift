import Foundation
import MERTensor
import MERVision

/// Renders a `Figure` into RGB pixels: anti-aliased lines (coverage from the distance to
/// the segment), rectangles with fractional edges, FreeType text. Saved through
/// `ImageIO.save` as an 8-bit RGB PNG (atomically).
public final class Raster {
    public let width: Int
    public let height: Int
    /// Row-major RGB, three floats a pixel, in [0, 1].
    public private(set) var pixels: [Float]
    /// Scratch coverage for one polyline, so joints are not blended twice.
    private var coverage: [Float]

    public init(width: Int, height: Int, background: RGBColor = .white) {
        self.width = width
        self.height = height
        pixels = [Float](repeating: 0, count: width * height * 3)
        coverage = [Float](repeating: 0, count: width * height)
        for i in 0..<(width * height) {
            pixels[3 * i] = Float(background.r); pixels[3 * i + 1] = Float(background.g); pixels[3 * i + 2] = Float(background.b)
        }
    }

    /// Draws `figure`; with `font: nil` texts are skipped (the no-font fallback).
    public static func render(_ figure: Figure, font: FontRenderer?) -> Raster {
        let r = Raster(width: figure.width, height: figure.height, background: figure.background)
        for s in figure.shapes { r.draw(s, font: font) }
        return r
    }

    public func draw(_ shape: Shape, font: FontRenderer?) {
        switch shape {
        case let .rect(x, y, w, h, fill, stroke, sw):
            if let fill = fill { fillRect(x, y, w, h, fill) }
            if let stroke = stroke {
                let pts = [Point(x, y), Point(x + w, y), Point(x + w, y + h), Point(x, y + h), Point(x, y)]
                polyline(pts, color: stroke, width: sw)
            }
        case let .polyline(points, color, w, opacity):
            polyline(points, color: color, width: w, opacity: opacity)
        case let .circle(x, y, radius, fill):
            disc(x, y, radius, fill)
        case let .text(s, x, y, size, color, anchor, rotated, bold):
            guard let font = font else { return }
            text(s, x, y, size: size, color: color, anchor: anchor, rotated: rotated, bold: bold, font: font)
        case let .verticalGradient(x, y, w, h, colors):
            guard !colors.isEmpty else { return }
            let top = Int(y.rounded()), bottom = Int((y + h).rounded())
            for row in top..<max(top, bottom) {
                let t = h <= 1 ? 0 : (Double(row) + 0.5 - y) / h
                fillRect(x, Double(row), w, 1, Raster.sample(colors, t))
            }
        case let .image(x, y, w, h, image):
            blit(image, x, y, w, h)
        }
    }

    static func sample(_ colors: [RGBColor], _ t: Double) -> RGBColor {
        if colors.count == 1 { return colors[0] }
        let u = min(max(t, 0), 1) * Double(colors.count - 1)
        let i = min(Int(u), colors.count - 2)
        return RGBColor.mix(colors[i], colors[i + 1], u - Double(i))
    }

    @inline(__always) private func blend(_ px: Int, _ py: Int, _ c: RGBColor, _ a: Float) {
        guard px >= 0, py >= 0, px < width, py < height, a > 0 else { return }
        let i = 3 * (py * width + px), k = min(a, 1)
        pixels[i] += (Float(c.r) - pixels[i]) * k
        pixels[i + 1] += (Float(c.g) - pixels[i + 1]) * k
        pixels[i + 2] += (Float(c.b) - pixels[i + 2]) * k
    }

    /// A coordinate as a pixel index, clamped to a little outside the picture: shapes far off
    /// the canvas (a huge value in a plotted series) or NaN must not trap `Int(_:)`.
    func pixel(_ v: Double) -> Int {
        let margin = Double(max(width, height) + 2)
        return v.isNaN ? -1 : Int(min(max(v, -margin), margin))
    }

    /// A rectangle whose edge pixels are blended by the fraction they cover.
    public func fillRect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, _ c: RGBColor) {
        guard w > 0, h > 0 else { return }
        let x0 = max(0, pixel(floor(x))), x1 = min(width - 1, pixel(ceil(x + w)) - 1)
        let y0 = max(0, pixel(floor(y))), y1 = min(height - 1, pixel(ceil(y + h)) - 1)
        guard x0 <= x1, y0 <= y1 else { return }
        for py in y0...y1 {
            let cy = min(Double(py + 1), y + h) - max(Double(py), y)
            for px in x0...x1 {
                let cx = min(Double(px + 1), x + w) - max(Double(px), x)
                blend(px, py, c, Float(cx * cy))
            }
        }
    }

    /// Copies `image` into the box, each target pixel taking the source pixel under its centre.
    public func blit(_ image: RGBImage, _ x: Double, _ y: Double, _ w: Double, _ h: Double) {
        guard image.width > 0, image.height > 0, w > 0, h > 0 else { return }
        let x0 = max(0, pixel(floor(x))), x1 = min(width - 1, pixel(ceil(x + w)) - 1)
        let y0 = max(0, pixel(floor(y))), y1 = min(height - 1, pixel(ceil(y + h)) - 1)
        guard x0 <= x1, y0 <= y1 else { return }
        for py in y0...y1 {
            let sy = min(image.height - 1, max(0, Int((Double(py) + 0.5 - y) / h * Double(image.height))))
            for px in x0...x1 {
                let sx = min(image.width - 1, max(0, Int((Double(px) + 0.5 - x) / w * Double(image.width))))
                let s = 3 * (sy * image.width + sx), d = 3 * (py * width + px)
                for c in 0..<3 { pixels[d + c] = min(max(image.pixels[s + c], 0), 1) }
            }
        }
    }

    /// A filled circle, anti-aliased on its rim.
    public func disc(_ x: Double, _ y: Double, _ r: Double, _ c: RGBColor) {
        let x0 = max(0, pixel(floor(x - r - 1))), x1 = min(width - 1, pixel(ceil(x + r + 1)))
        let y0 = max(0, pixel(floor(y - r - 1))), y1 = min(height - 1, pixel(ceil(y + r + 1)))
        guard x0 <= x1, y0 <= y1 else { return }
        for py in y0...y1 {
            for px in x0...x1 {
                let d = hypot(Double(px) + 0.5 - x, Double(py) + 0.5 - y)
                blend(px, py, c, Float(min(max(r + 0.5 - d, 0), 1)))
            }
        }
    }

    /// A polyline `width` pixels wide with round joins: each pixel's coverage is
    /// clamp(width/2 + 0.5 − distance to the nearest segment), blended once.
    public func polyline(_ points: [Point], color: RGBColor, width lineWidth: Double, opacity: Double = 1) {
        guard !points.isEmpty else { return }
        let half = max(lineWidth, 0.5) / 2
        var touched: [Int] = []
        let segments = points.count == 1 ? [(points[0], points[0])] : (1..<points.count).map { (points[$0 - 1], points[$0]) }
        for (a, b) in segments {
            guard a.x.isFinite, a.y.isFinite, b.x.isFinite, b.y.isFinite else { continue }
            let x0 = max(0, pixel(floor(min(a.x, b.x) - half - 1))), x1 = min(width - 1, pixel(ceil(max(a.x, b.x) + half + 1)))
            let y0 = max(0, pixel(floor(min(a.y, b.y) - half - 1))), y1 = min(height - 1, pixel(ceil(max(a.y, b.y) + half + 1)))
            guard x0 <= x1, y0 <= y1 else { continue }
            let dx = b.x - a.x, dy = b.y - a.y, len2 = dx * dx + dy * dy
            for py in y0...y1 {
                for px in x0...x1 {
                    let cx = Double(px) + 0.5, cy = Double(py) + 0.5
                    var t = len2 == 0 ? 0 : ((cx - a.x) * dx + (cy - a.y) * dy) / len2
                    t = min(max(t, 0), 1)
                    let d = hypot(cx - (a.x + t * dx), cy - (a.y + t * dy))
                    let cov = Float(min(max(half + 0.5 - d, 0), 1))
                    guard cov > 0 else { continue }
                    let i = py * width + px
                    if coverage[i] == 0 { touched.append(i) }
                    coverage[i] = max(coverage[i], cov)
                }
            }
        }
        for i in touched {
            blend(i % width, i / width, color, coverage[i] * Float(opacity))
            coverage[i] = 0
        }
    }

    /// Text with its baseline at `y`; rotated text reads bottom to top, baseline at x = `x`.
    public func text(_ s: String, _ x: Double, _ y: Double, size: Double, color: RGBColor, anchor: TextAnchor,
                     rotated: Bool, bold: Bool, font: FontRenderer) {
        let bm = font.render(s, size: size, bold: bold)
        let advance = font.width(s, size: size, bold: bold)
        let shift: Double = anchor == .start ? 0 : anchor == .middle ? -advance / 2 : -advance
        if !rotated {
            let ox = pixel((x + shift).rounded()), oy = pixel(y.rounded()) - bm.ascent
            for row in 0..<bm.height {
                for col in 0..<bm.width {
                    let a = bm.alpha[row * bm.width + col]
                    if a > 0 { blend(ox + col, oy + row, color, Float(a) / 255) }
                }
            }
        } else {
            // Rotating 90° counter-clockwise about (x, y): a bitmap pixel (col, row) relative
            // to the pen lands at (x + row − ascent, y − col).
            let ox = pixel(x.rounded()), oy = pixel((y - shift).rounded())
            for row in 0..<bm.height {
                for col in 0..<bm.width {
                    let a = bm.alpha[row * bm.width + col]
                    if a > 0 { blend(ox + row - bm.ascent, oy - col, color, Float(a) / 255) }
                }
            }
        }
    }

    /// The picture as a (3, H, W) tensor.
    public func tensor() throws -> Tensor {
        var planar = [Float](repeating: 0, count: pixels.count)
        let n = width * height
        for i in 0..<n {
            planar[i] = pixels[3 * i]; planar[n + i] = pixels[3 * i + 1]; planar[2 * n + i] = pixels[3 * i + 2]
        }
        return try Tensor.from(planar, shape: [3, height, width])
    }

    /// Writes an RGB PNG (temporary file, then rename).
    public func savePNG(_ path: String) throws {
        try ImageIO.save(try tensor(), path: path)
    }
}
