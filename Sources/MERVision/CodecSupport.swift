import CImageBridge
import Foundation
import MERKernels
import MERTensor

/// Shared plumbing of the PNG and JPEG codecs: C message buffers, the planar float ⇄
/// interleaved integer conversions, and shape checks for tensors that become images.
enum CodecSupport {
    static let messageCapacity = 512

    /// Calls `body` with a zeroed C message buffer; returns its text afterwards.
    static func withMessage<R>(_ body: (UnsafeMutablePointer<CChar>, Int) -> R) -> (R, String) {
        var buffer = [CChar](repeating: 0, count: messageCapacity)
        let r = buffer.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
        let text = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return (r, text)
    }

    /// Wording of a failed decode: `truncated PNG data`, `corrupt PNG data (IHDR: CRC error)`.
    static func describe(code: Int32, message: String, format: String) -> String {
        let m = message.isEmpty ? "decoder error \(code)" : message
        switch code {
        case Int32(CIB_ERR_CORRUPT):
            return m.lowercased().hasPrefix("corrupt") || m.hasPrefix("not a ") ? m : "corrupt \(format) data (\(m))"
        case Int32(CIB_ERR_NOMEM):
            return "out of memory decoding \(format)"
        default:
            return m
        }
    }

    /// (C, H, W) float32 in [0, 1] from a decoded C image (which the caller still frees).
    static func tensor(from img: cib_image) throws -> Tensor {
        let c = Int(img.channels), h = Int(img.height), w = Int(img.width)
        let t = try Tensor(zeros: [c, h, w])
        let dst = t.pointer
        let plane = h * w
        let threads = plane >= 1 << 16 ? Parallel.threads : 1
        if img.bit_depth == 16 {
            let src = img.pixels.assumingMemoryBound(to: UInt16.self)
            Parallel.forRanges(h, threads: threads) { rows in
                for y in rows {
                    for x in 0..<w {
                        let s = src + (y * w + x) * c
                        for ch in 0..<c { dst[ch * plane + y * w + x] = Float(s[ch]) / 65535 }
                    }
                }
            }
            return t
        }
        let src = img.pixels.assumingMemoryBound(to: UInt8.self)
        var lut = [Float](repeating: 0, count: 256)
        for i in 0..<256 { lut[i] = Float(i) / 255 }
        lut.withUnsafeBufferPointer { lb in
            let l = lb.baseAddress!
            Parallel.forRanges(h, threads: threads) { rows in
                for y in rows {
                    let row = src + y * w * c
                    let o = y * w
                    switch c {
                    case 1:
                        for x in 0..<w { dst[o + x] = l[Int(row[x])] }
                    case 3:
                        for x in 0..<w {
                            dst[o + x] = l[Int(row[3 * x])]
                            dst[plane + o + x] = l[Int(row[3 * x + 1])]
                            dst[2 * plane + o + x] = l[Int(row[3 * x + 2])]
                        }
                    default:
                        for x in 0..<w {
                            for ch in 0..<c { dst[ch * plane + o + x] = l[Int(row[x * c + ch])] }
                        }
                    }
                }
            }
        }
        return t
    }

    /// (C, H, W) of a tensor about to be written as an image; (H, W) counts as one channel.
    static func imageShape(_ t: Tensor, _ context: String) throws -> (c: Int, h: Int, w: Int) {
        let s = t.shape
        guard s.count == 3 || s.count == 2 else {
            throw TensorError("\(context): expected a (C, H, W) image tensor, got shape \(s)")
        }
        let (c, h, w) = s.count == 3 ? (s[0], s[1], s[2]) : (1, s[0], s[1])
        guard h >= 1, w >= 1 else { throw TensorError("\(context): image has no pixels (shape \(s))") }
        guard h <= 1 << 20, w <= 1 << 20 else { throw TensorError("\(context): image of \(w)x\(h) pixels is too large") }
        return (c, h, w)
    }

    @inline(__always) static func clamp01(_ v: Float) -> Float {
        v >= 0 ? (v <= 1 ? v : 1) : 0 // NaN → 0
    }

    /// Interleaved samples (UInt8 or native UInt16) of a (C, H, W) tensor, clamped to [0, 1] and rounded.
    static func interleaved(_ t: Tensor, c: Int, h: Int, w: Int, bitDepth: Int) throws -> [UInt8] {
        let src = (t.isContiguous ? t : try t.detach().contiguous()).pointer
        let plane = h * w
        let bytes = bitDepth / 8
        var out = [UInt8](repeating: 0, count: plane * c * bytes)
        let threads = plane >= 1 << 16 ? Parallel.threads : 1
        out.withUnsafeMutableBytes { raw in
            if bitDepth == 16 {
                let dst = raw.baseAddress!.assumingMemoryBound(to: UInt16.self)
                Parallel.forRanges(h, threads: threads) { rows in
                    for i in rows.lowerBound * w..<rows.upperBound * w {
                        for ch in 0..<c {
                            dst[i * c + ch] = UInt16((clamp01(src[ch * plane + i]) * 65535).rounded())
                        }
                    }
                }
            } else {
                let dst = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
                Parallel.forRanges(h, threads: threads) { rows in
                    for i in rows.lowerBound * w..<rows.upperBound * w {
                        for ch in 0..<c {
                            dst[i * c + ch] = UInt8((clamp01(src[ch * plane + i]) * 255).rounded())
                        }
                    }
                }
            }
        }
        return out
    }

    /// Data that owns a malloc'ed C buffer (freed with cib_free when the Data goes).
    static func data(owning buffer: UnsafeMutablePointer<UInt8>, count: Int) -> Data {
        Data(bytesNoCopy: buffer, count: count, deallocator: .custom { p, _ in cib_free(p) })
    }
}
