import CImageBridge
import Foundation
import MERTensor

/// PNG through libpng (via the C bridge, which keeps libpng's longjmp error handling in C).
public enum PNGCodec {
    /// Decodes a PNG to (C, H, W) float32 in [0, 1]: C = 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA.
    /// Palette images become RGB (RGBA with a tRNS chunk), gray/RGB with tRNS gain alpha;
    /// 1/2/4-bit gray is scaled up to 8 bits first (libpng's expansion), 16-bit samples are /65535.
    /// Errors are `TensorError("<context>: <what was wrong>")`.
    public static func decode(_ data: Data, context: String = "png.decode") throws -> Tensor {
        guard !data.isEmpty else { throw TensorError("\(context): empty data") }
        var img = cib_image()
        let (code, message) = data.withUnsafeBytes { raw in
            CodecSupport.withMessage { msg, cap in
                cib_png_decode(raw.bindMemory(to: UInt8.self).baseAddress!, raw.count, &img, msg, cap)
            }
        }
        defer { cib_free(img.pixels) }
        guard code == 0, img.pixels != nil else {
            throw TensorError("\(context): \(CodecSupport.describe(code: code, message: message, format: "PNG"))")
        }
        return try CodecSupport.tensor(from: img)
    }

    /// Encodes a (C, H, W) (or (H, W)) tensor, C = 1...4, as PNG: values clamped to [0, 1]
    /// and rounded to 8 or 16 bits. `interlaced` writes Adam7.
    public static func encode(_ t: Tensor, bitDepth: Int = 8, interlaced: Bool = false,
                              context: String = "png.encode") throws -> Data {
        let (c, h, w) = try CodecSupport.imageShape(t, context)
        guard (1...4).contains(c) else {
            throw TensorError("\(context): PNG needs 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA) channels, got \(c)")
        }
        guard bitDepth == 8 || bitDepth == 16 else {
            throw TensorError("\(context): PNG bit depth must be 8 or 16, got \(bitDepth)")
        }
        let samples = try CodecSupport.interleaved(t, c: c, h: h, w: w, bitDepth: bitDepth)
        var out: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        let (code, message) = samples.withUnsafeBytes { raw in
            CodecSupport.withMessage { msg, cap in
                cib_png_encode(raw.baseAddress!, Int32(w), Int32(h), Int32(c), Int32(bitDepth),
                               interlaced ? 1 : 0, &out, &size, msg, cap)
            }
        }
        guard code == 0, let buffer = out else {
            cib_free(out)
            throw TensorError("\(context): PNG encoding failed (\(message))")
        }
        return CodecSupport.data(owning: buffer, count: size)
    }
}
