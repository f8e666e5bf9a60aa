import CImageBridge
import Foundation
import MERTensor

/// JPEG through libjpeg-turbo (via the C bridge, which keeps libjpeg's longjmp error handling in C).
public enum JPEGCodec {
    /// Decodes a JPEG to (C, H, W) float32 in [0, 1]: C = 1 for grayscale files, 3 (RGB) otherwise.
    /// CMYK/YCCK files are converted to RGB (Adobe's inverted CMYK recognised by its marker).
    /// `grayscale: true` asks libjpeg for luma only (C = 1); for YCbCr files that is the Y
    /// plane, BT.601 luma, and chroma is never decoded.
    /// Truncated or corrupt entropy-coded data is an error, not a partly grey image.
    public static func decode(_ data: Data, grayscale: Bool = false, context: String = "jpeg.decode") throws -> Tensor {
        guard !data.isEmpty else { throw TensorError("\(context): empty data") }
        var img = cib_image()
        let (code, message) = data.withUnsafeBytes { raw in
            CodecSupport.withMessage { msg, cap in
                cib_jpeg_decode(raw.bindMemory(to: UInt8.self).baseAddress!, raw.count, 1, grayscale ? 1 : 0,
                                &img, msg, cap, nil, 0)
            }
        }
        defer { cib_free(img.pixels) }
        guard code == 0, img.pixels != nil else {
            throw TensorError("\(context): \(CodecSupport.describe(code: code, message: message, format: "JPEG"))")
        }
        return try CodecSupport.tensor(from: img)
    }

    /// Encodes a (C, H, W) (or (H, W)) tensor, C = 1 or 3, as a baseline JPEG of `quality`
    /// 1...100 (4:4:4 chroma at quality ≥ 90, 4:2:0 below).
    public static func encode(_ t: Tensor, quality: Int = 95, context: String = "jpeg.encode") throws -> Data {
        let (c, h, w) = try CodecSupport.imageShape(t, context)
        guard c == 1 || c == 3 else {
            throw TensorError("\(context): JPEG needs 1 (gray) or 3 (RGB) channels, got \(c)")
        }
        guard (1...100).contains(quality) else {
            throw TensorError("\(context): JPEG quality must be 1...100, got \(quality)")
        }
        guard h <= 65500, w <= 65500 else {
            throw TensorError("\(context): JPEG images are at most 65500 pixels per side, got \(w)x\(h)")
        }
        let samples = try CodecSupport.interleaved(t, c: c, h: h, w: w, bitDepth: 8)
        var out: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        let (code, message) = samples.withUnsafeBufferPointer { buf in
            CodecSupport.withMessage { msg, cap in
                cib_jpeg_encode(buf.baseAddress!, Int32(w), Int32(h), Int32(c), Int32(quality), &out, &size, msg, cap)
            }
        }
        guard code == 0, let buffer = out else {
            cib_free(out)
            throw TensorError("\(context): JPEG encoding failed (\(message))")
        }
        return CodecSupport.data(owning: buffer, count: size)
    }
}
