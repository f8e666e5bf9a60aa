import Foundation

/// An sRGB colour with components in [0, 1].
public struct RGBColor: Equatable {
    public var r: Double, g: Double, b: Double
    public init(_ r: Double, _ g: Double, _ b: Double) { self.r = r; self.g = g; self.b = b }
    public init(hex: UInt32) {
        self.init(Double((hex >> 16) & 0xff) / 255, Double((hex >> 8) & 0xff) / 255, Double(hex & 0xff) / 255)
    }
    public static let white = RGBColor(1, 1, 1)
    public static let black = RGBColor(0, 0, 0)
    public static let gray = RGBColor(hex: 0x888888)
    public static let lightGray = RGBColor(hex: 0xdddddd)
    public static let text = RGBColor(hex: 0x222222)

    /// `#rrggbb`, as SVG and CSS want it.
    public var hex: String {
        func byte(_ v: Double) -> Int { Int((min(max(v, 0), 1) * 255).rounded()) }
        return String(format: "#%02x%02x%02x", byte(r), byte(g), byte(b))
    }

    /// Linear interpolation between `a` and `b`.
    public static func mix(_ a: RGBColor, _ b: RGBColor, _ t: Double) -> RGBColor {
        RGBColor(a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t)
    }

    /// Perceived lightness (Rec. 601 luma), to pick black or white text on a fill.
    public var luma: Double { 0.299 * r + 0.587 * g + 0.114 * b }
}

/// Where a text's anchor point sits horizontally.
public enum TextAnchor: String { case start, middle, end }

/// One drawing primitive. Coordinates are pixels from the top-left corner; a text's `y` is
/// its baseline. The same list renders to a PNG (`Raster`) and to SVG (`SVG`).
public enum Shape: Equatable {
    case rect(x: Double, y: Double, width: Double, height: Double, fill: RGBColor?, stroke: RGBColor?, strokeWidth: Double)
    case polyline(points: [Point], color: RGBColor, width: Double, opacity: Double)
    case circle(x: Double, y: Double, radius: Double, fill: RGBColor)
    /// Text; `rotated` turns it 90° counter-clockwise about (x, y) (reads bottom to top).
    case text(String, x: Double, y: Double, size: Double, color: RGBColor, anchor: TextAnchor, rotated: Bool, bold: Bool)
    /// A box filled top to bottom through `colors` (evenly spaced stops).
    case verticalGradient(x: Double, y: Double, width: Double, height: Double, colors: [RGBColor])
    /// A picture scaled (nearest pixel, so single pixels stay sharp) into the box.
    case image(x: Double, y: Double, width: Double, height: Double, pixels: RGBImage)
}

/// Pixels for an `.image` shape: row-major RGB, three floats a pixel in [0, 1].
public struct RGBImage: Equatable {
    public let width: Int
    public let height: Int
    public let pixels: [Float]
    public init(width: Int, height: Int, pixels: [Float]) {
        precondition(pixels.count == width * height * 3, "RGBImage: \(pixels.count) values for \(width)x\(height)")
        self.width = width; self.height = height; self.pixels = pixels
    }
}

public struct Point: Equatable {
    public var x: Double, y: Double
    public init(_ x: Double, _ y: Double) { self.x = x; self.y = y }
}

/// A picture as a list of shapes on a canvas of `width` × `height` pixels.
public struct Figure: Equatable {
    public var width: Int
    public var height: Int
    public var background: RGBColor = .white
    public var title: String
    public private(set) var shapes: [Shape] = []

    public init(width: Int, height: Int, title: String = "") {
        self.width = width; self.height = height; self.title = title
    }

    public mutating func add(_ s: Shape) { shapes.append(s) }

    public mutating func text(_ s: String, _ x: Double, _ y: Double, size: Double, color: RGBColor = .text,
                              anchor: TextAnchor = .start, rotated: Bool = false, bold: Bool = false) {
        add(.text(s, x: x, y: y, size: size, color: color, anchor: anchor, rotated: rotated, bold: bold))
    }

    public mutating func line(_ points: [Point], color: RGBColor, width: Double = 1, opacity: Double = 1) {
        add(.polyline(points: points, color: color, width: width, opacity: opacity))
    }

    public mutating func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, fill: RGBColor? = nil,
                              stroke: RGBColor? = nil, strokeWidth: Double = 1) {
        add(.rect(x: x, y: y, width: w, height: h, fill: fill, stroke: stroke, strokeWidth: strokeWidth))
    }

    /// All texts, for tests and for checking that labels made it in.
    public var texts: [String] {
        shapes.compactMap { if case .text(let s, _, _, _, _, _, _, _) = $0 { return s } else { return nil } }
    }
}

/// How wide a text will be; the raster font answers exactly, the fallback estimates.
public protocol TextMeasure {
    func width(_ text: String, size: Double, bold: Bool) -> Double
}

/// DejaVu Sans averages about 0.6 em per character (digits 0.64, lower case ~0.58).
public struct EstimatedTextMeasure: TextMeasure {
    public init() {}
    public func width(_ text: String, size: Double, bold: Bool) -> Double {
        Double(text.count) * size * (bold ? 0.66 : 0.6)
    }
}
