import MERTensor

extension OpticalFlow {
    /// Optical-strain magnitude of a flow field, the usual micro-expression feature:
    ///
    ///     εxx = ∂u/∂x,  εyy = ∂v/∂y,  εxy = εyx = ½(∂u/∂y + ∂v/∂x)
    ///     |ε| = sqrt(εxx² + εyy² + εxy² + εyx²) = sqrt(εxx² + εyy² + 2·εxy²)
    ///
    /// Derivatives are central differences, (f[i+1] − f[i−1]) / 2, inside the image and
    /// one-sided differences (f[1] − f[0], f[n−1] − f[n−2]) on the first and last row/column;
    /// along a dimension of size 1 the derivative is 0. All of these are exact for linear flows.
    ///
    /// `u` and `v` are (1, H, W) or (H, W) with the same size; the result has `u`'s shape.
    public static func strain(u: Tensor, v: Tensor) throws -> Tensor {
        let fu = try grayscale(u, "u", "strain")
        let fv = try grayscale(v, "v", "strain")
        guard fu.h == fv.h, fu.w == fv.w else {
            throw TensorError("strain: u and v differ in size: u is \(fu.h)×\(fu.w), v is \(fv.h)×\(fv.w)")
        }
        let h = fu.h, w = fu.w
        let out = try Tensor(zeros: u.shape)
        let o = out.pointer
        fu.pixels.withUnsafeBufferPointer { up in
            fv.pixels.withUnsafeBufferPointer { vp in
                /// d/dx and d/dy of plane `f` at (y, x).
                func dx(_ f: UnsafeBufferPointer<Float>, _ y: Int, _ x: Int) -> Float {
                    if w == 1 { return 0 }
                    if x == 0 { return f[y * w + 1] - f[y * w] }
                    if x == w - 1 { return f[y * w + x] - f[y * w + x - 1] }
                    return 0.5 * (f[y * w + x + 1] - f[y * w + x - 1])
                }
                func dy(_ f: UnsafeBufferPointer<Float>, _ y: Int, _ x: Int) -> Float {
                    if h == 1 { return 0 }
                    if y == 0 { return f[w + x] - f[x] }
                    if y == h - 1 { return f[y * w + x] - f[(y - 1) * w + x] }
                    return 0.5 * (f[(y + 1) * w + x] - f[(y - 1) * w + x])
                }
                for y in 0..<h {
                    for x in 0..<w {
                        let exx = dx(up, y, x), eyy = dy(vp, y, x)
                        let exy = 0.5 * (dy(up, y, x) + dx(vp, y, x))
                        o[y * w + x] = (exx * exx + eyy * eyy + 2 * exy * exy).squareRoot()
                    }
                }
            }
        }
        return out
    }
}
