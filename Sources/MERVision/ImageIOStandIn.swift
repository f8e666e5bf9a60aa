// TEMPORARY STAND-IN — DELETE AT MERGE.
//
// The real PNG/JPEG codec and image ops are being written on branch `vision`. This file
// only exists so that MERData (branch `data`) compiles and its tests run before the
// merge. It has exactly the signatures of the real API; its bodies are minimal:
// `ImageIO.load` reads binary PGM (P5, 8-bit) only and refuses everything else.
import Foundation
import MERTensor

public enum ImageIO {
    /// Decodes an image into a (C,H,W) tensor in [0,1]. Stand-in: binary PGM (P5) only.
    public static func load(path: String) throws -> Tensor {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TensorError("image.load: cannot read '\(path)'")
        }
        let bytes = [UInt8](data)
        guard bytes.count > 2, bytes[0] == UInt8(ascii: "P"), bytes[1] == UInt8(ascii: "5") else {
            throw TensorError("image.load: '\(path)': the ImageIO stand-in reads binary PGM only (needs the real codec)")
        }
        var pos = 2
        func token() throws -> Int {
            while pos < bytes.count {
                if bytes[pos] == UInt8(ascii: "#") {
                    while pos < bytes.count && bytes[pos] != 10 { pos += 1 }
                } else if bytes[pos] == 32 || bytes[pos] == 10 || bytes[pos] == 13 || bytes[pos] == 9 {
                    pos += 1
                } else { break }
            }
            var v = 0, digits = 0
            while pos < bytes.count, bytes[pos] >= 48, bytes[pos] <= 57 {
                v = v * 10 + Int(bytes[pos] - 48); pos += 1; digits += 1
            }
            if digits == 0 { throw TensorError("image.load: '\(path)': malformed PGM header") }
            return v
        }
        let w = try token(), h = try token(), maxv = try token()
        pos += 1
        guard maxv > 0, maxv < 256, bytes.count - pos >= w * h else {
            throw TensorError("image.load: '\(path)': truncated or 16-bit PGM")
        }
        let t = try Tensor.zeros([1, h, w])
        let p = t.pointer
        for i in 0..<(w * h) { p[i] = Float(bytes[pos + i]) / Float(maxv) }
        return t
    }
}

public enum ResizeMode { case bilinear, area, auto }

public enum ImageOps {
    /// (1,H,W) luma (BT.601 weights for 3+ channels).
    public static func gray(_ t: Tensor) throws -> Tensor {
        guard t.rank == 3 else { throw TensorError("image.gray: expected (C,H,W), got rank \(t.rank)") }
        let c = t.shape[0], h = t.shape[1], w = t.shape[2]
        if c == 1 { return t.clone() }
        let src = t.clone(), out = try Tensor.zeros([1, h, w])
        let s = src.pointer, o = out.pointer, n = h * w
        if c >= 3 {
            for i in 0..<n { o[i] = 0.299 * s[i] + 0.587 * s[n + i] + 0.114 * s[2 * n + i] }
        } else {
            for i in 0..<n { o[i] = s[i] }
        }
        return out
    }

    public static func resize(_ t: Tensor, height: Int, width: Int, mode: ResizeMode = .auto) throws -> Tensor {
        guard t.rank == 3, height > 0, width > 0 else { throw TensorError("image.resize: bad arguments") }
        let c = t.shape[0], h = t.shape[1], w = t.shape[2]
        let src = t.clone(), out = try Tensor.zeros([c, height, width])
        let s = src.pointer, o = out.pointer
        let shrinking = height < h || width < w
        let useArea = mode == .area || (mode == .auto && shrinking)
        let sy = Double(h) / Double(height), sx = Double(w) / Double(width)
        for ch in 0..<c {
            let sb = s + ch * h * w, ob = o + ch * height * width
            for y in 0..<height {
                for x in 0..<width {
                    if useArea {
                        let y0 = Double(y) * sy, y1 = y0 + sy, x0 = Double(x) * sx, x1 = x0 + sx
                        var acc = 0.0, wsum = 0.0
                        var yy = Int(y0)
                        while Double(yy) < y1 && yy < h {
                            let wy = min(y1, Double(yy + 1)) - max(y0, Double(yy))
                            var xx = Int(x0)
                            while Double(xx) < x1 && xx < w {
                                let wx = min(x1, Double(xx + 1)) - max(x0, Double(xx))
                                acc += wy * wx * Double(sb[yy * w + xx]); wsum += wy * wx
                                xx += 1
                            }
                            yy += 1
                        }
                        ob[y * width + x] = Float(acc / max(wsum, 1e-12))
                    } else {
                        let fy = min(max((Double(y) + 0.5) * sy - 0.5, 0), Double(h - 1))
                        let fx = min(max((Double(x) + 0.5) * sx - 0.5, 0), Double(w - 1))
                        let y0 = Int(fy), x0 = Int(fx), y1 = min(y0 + 1, h - 1), x1 = min(x0 + 1, w - 1)
                        let dy = Float(fy - Double(y0)), dx = Float(fx - Double(x0))
                        let top = sb[y0 * w + x0] * (1 - dx) + sb[y0 * w + x1] * dx
                        let bot = sb[y1 * w + x0] * (1 - dx) + sb[y1 * w + x1] * dx
                        ob[y * width + x] = top * (1 - dy) + bot * dy
                    }
                }
            }
        }
        return out
    }

    public static func crop(_ t: Tensor, x: Int, y: Int, width: Int, height: Int) throws -> Tensor {
        guard t.rank == 3, x >= 0, y >= 0, width > 0, height > 0,
              x + width <= t.shape[2], y + height <= t.shape[1] else {
            throw TensorError("image.crop: box (\(x), \(y), \(width)×\(height)) does not fit a \(t.shape) image")
        }
        return try t.narrow(1, y, height).narrow(2, x, width).clone()
    }

    public static func centerCrop(_ t: Tensor, height: Int, width: Int) throws -> Tensor {
        guard t.rank == 3, height <= t.shape[1], width <= t.shape[2] else {
            throw TensorError("image.center_crop: \(height)×\(width) does not fit a \(t.shape) image")
        }
        return try crop(t, x: (t.shape[2] - width) / 2, y: (t.shape[1] - height) / 2, width: width, height: height)
    }
}
