import CFreeType
import Foundation

/// Text rendered to an 8-bit coverage bitmap: `width` × `height` pixels, the baseline
/// `ascent` pixels below the top row, the pen starting at column 0.
public struct TextBitmap {
    public let width: Int
    public let height: Int
    public let ascent: Int
    public let alpha: [UInt8]
}

/// Anti-aliased text through FreeType (DejaVu Sans by default).
///
/// The font is looked up in `$MER_FONT`, then the Debian path of fonts-dejavu-core
/// (`/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf`), then a few other distributions'
/// paths. No font found is an error that names the package; figures are then still drawn
/// as PNG without their texts (`Raster.render(_:font:)` with `font: nil`) — see RunDirectory.
public final class FontRenderer: TextMeasure {
    public static let defaultPath = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    static let searchPaths = [
        defaultPath,
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
        "/usr/local/share/fonts/DejaVuSans.ttf",
    ]

    private var library: FT_Library?
    private var face: FT_Face?
    private var boldFace: FT_Face?
    public let path: String
    private var widthCache: [String: Double] = [:]

    /// The first font found by the search order above.
    public static func loadDefault() throws -> FontRenderer {
        var candidates = searchPaths
        if let env = ProcessInfo.processInfo.environment["MER_FONT"], !env.isEmpty { candidates.insert(env, at: 0) }
        guard let found = candidates.first(where: { FileManager.default.isReadableFile(atPath: $0) }) else {
            throw EvalError("font: DejaVuSans.ttf not found (looked in $MER_FONT and \(searchPaths.joined(separator: ", "))); install fonts-dejavu-core or set MER_FONT to a .ttf file")
        }
        return try FontRenderer(path: found)
    }

    public init(path: String) throws {
        self.path = path
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw EvalError("font: \(path): no such file (install fonts-dejavu-core or set MER_FONT to a .ttf file)")
        }
        guard FT_Init_FreeType(&library) == 0 else { throw EvalError("font: FreeType could not start") }
        guard FT_New_Face(library, path, 0, &face) == 0, face != nil else {
            FT_Done_FreeType(library)
            throw EvalError("font: \(path): FreeType cannot read this file as a font")
        }
        // The bold face beside the regular one (DejaVuSans-Bold.ttf), if there is one.
        let boldPath = path.replacingOccurrences(of: ".ttf", with: "-Bold.ttf")
        if boldPath != path, FileManager.default.isReadableFile(atPath: boldPath) {
            if FT_New_Face(library, boldPath, 0, &boldFace) != 0 { boldFace = nil }
        }
    }

    deinit {
        if let f = face { FT_Done_Face(f) }
        if let f = boldFace { FT_Done_Face(f) }
        if let l = library { FT_Done_FreeType(l) }
    }

    private func select(size: Double, bold: Bool) -> FT_Face {
        let f = (bold ? boldFace : nil) ?? face!
        FT_Set_Pixel_Sizes(f, 0, FT_UInt(max(1, size.rounded())))
        return f
    }

    /// Advance width in pixels of `text` at `size` pixels per em.
    public func width(_ text: String, size: Double, bold: Bool = false) -> Double {
        let key = "\(size)|\(bold)|\(text)"
        if let w = widthCache[key] { return w }
        let f = select(size: size, bold: bold)
        var pen = 0
        for scalar in text.unicodeScalars {
            // FT_LOAD_DEFAULT (0): metrics only.
            if FT_Load_Char(f, FT_ULong(scalar.value), 0) != 0 { continue }
            pen += Int(f.pointee.glyph.pointee.advance.x >> 6)
        }
        widthCache[key] = Double(pen)
        return Double(pen)
    }

    /// Renders `text` at `size` pixels per em into a coverage bitmap.
    public func render(_ text: String, size: Double, bold: Bool = false) -> TextBitmap {
        let f = select(size: size, bold: bold)
        let metrics = f.pointee.size.pointee.metrics
        let ascent = Int((metrics.ascender + 63) >> 6)
        let descent = Int((-metrics.descender + 63) >> 6)
        let width = Int(self.width(text, size: size, bold: bold)) + 2
        let height = ascent + descent
        var alpha = [UInt8](repeating: 0, count: max(1, width * height))
        var pen = 0
        for scalar in text.unicodeScalars {
            // FT_LOAD_RENDER (1 << 2): an 8-bit anti-aliased bitmap.
            if FT_Load_Char(f, FT_ULong(scalar.value), 1 << 2) != 0 { continue }
            let g = f.pointee.glyph.pointee
            let bm = g.bitmap
            if let buffer = bm.buffer {
                for row in 0..<Int(bm.rows) {
                    let y = ascent - Int(g.bitmap_top) + row
                    guard y >= 0 && y < height else { continue }
                    for col in 0..<Int(bm.width) {
                        let x = pen + Int(g.bitmap_left) + col
                        guard x >= 0 && x < width else { continue }
                        let v = buffer[row * Int(bm.pitch) + col]
                        let i = y * width + x
                        alpha[i] = max(alpha[i], v)
                    }
                }
            }
            pen += Int(g.advance.x >> 6)
        }
        return TextBitmap(width: width, height: height, ascent: ascent, alpha: alpha)
    }
}
