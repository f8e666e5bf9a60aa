import Foundation
import MERTensor
import MERVision

/// One kind of network input built from the preprocessed onset and apex frames.
public struct InputKind {
    public let name: String
    /// Channels `make` returns.
    public let channels: Int
    /// `(onset, apex)`, each (1,H,W) gray, cropped and resized → (channels,H,W).
    public let make: (_ onset: Tensor, _ apex: Tensor) throws -> Tensor
}

/// The open registry of input kinds (`input = {"onset", "apex", "diff"}`).
///
/// Built in: `onset`, `apex`, `diff` (apex − onset), one channel each; `flow` (u, v: TV-L1
/// from onset to apex, two channels) and `strain` (optical-strain magnitude, one channel). Other layers add
/// theirs (optical flow `flow` (u, v) and `strain` register here) with `register`; a
/// dataset stacks the requested kinds' channels in the order requested.
public enum InputKinds {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var table: [String: InputKind] = [
        "onset": InputKind(name: "onset", channels: 1) { o, _ in o },
        "apex": InputKind(name: "apex", channels: 1) { _, a in a },
        "diff": InputKind(name: "diff", channels: 1) { o, a in try a.sub(o) },
        // Motion from onset to apex (TV-L1 with OpenCV's defaults), as most MER peers use.
        "flow": InputKind(name: "flow", channels: 2) { o, a in
            let (u, v) = try OpticalFlow.tvl1(o, a)
            return try Tensor.cat([u, v], dim: 0)
        },
        "strain": InputKind(name: "strain", channels: 1) { o, a in
            let (u, v) = try OpticalFlow.tvl1(o, a)
            return try OpticalFlow.strain(u: u, v: v)
        },
    ]

    /// Adds or replaces an input kind.
    public static func register(_ name: String, channels: Int,
                                make: @escaping (_ onset: Tensor, _ apex: Tensor) throws -> Tensor) {
        precondition(channels > 0, "InputKinds.register: channels must be positive")
        lock.lock(); defer { lock.unlock() }
        table[name] = InputKind(name: name, channels: channels, make: make)
    }

    public static var names: [String] {
        lock.lock(); defer { lock.unlock() }
        return table.keys.sorted()
    }

    public static func kind(_ name: String) throws -> InputKind {
        lock.lock(); defer { lock.unlock() }
        guard let k = table[name] else {
            throw DataError("unknown input '\(name)' (known: \(table.keys.sorted().joined(separator: ", ")))")
        }
        return k
    }

    /// Builds the stacked input (Σ channels, H, W) from preprocessed frames.
    static func build(_ kinds: [InputKind], onset: Tensor, apex: Tensor) throws -> Tensor {
        var parts: [Tensor] = []
        for k in kinds {
            let t = try k.make(onset, apex)
            guard t.rank == 3, t.shape[0] == k.channels, t.shape[1] == onset.shape[1], t.shape[2] == onset.shape[2] else {
                throw DataError("input '\(k.name)' returned shape \(t.shape), expected [\(k.channels), \(onset.shape[1]), \(onset.shape[2])]")
            }
            parts.append(t)
        }
        return parts.count == 1 ? try parts[0].clone() : try Tensor.cat(parts, dim: 0)
    }
}

/// How frames are cropped before resizing.
public enum CropMode: Equatable, CustomStringConvertible {
    /// The dataset's face-cropped release when present (CASME II `Cropped/`), else the whole frame.
    case face
    /// A fixed box, 0-based pixel coordinates in the source frame.
    case box(x: Int, y: Int, width: Int, height: Int)
    /// A centred crop of the source frame.
    case center(height: Int, width: Int)
    /// The whole frame.
    case none

    public var description: String {
        switch self {
        case .face: return "face"
        case let .box(x, y, w, h): return "box(\(x),\(y),\(w),\(h))"
        case let .center(h, w): return "center(\(h),\(w))"
        case .none: return "none"
        }
    }
}

/// Gray → crop → resize to size×size (area averaging when shrinking, bilinear otherwise).
struct FramePreprocessor {
    let crop: CropMode
    let size: Int

    func apply(_ image: Tensor, path: String) throws -> Tensor {
        guard image.rank == 3 else { throw DataError("\(path): decoded image has shape \(image.shape), expected (C,H,W)") }
        var t = try ImageOps.gray(image)
        switch crop {
        case .face, .none: break
        case let .box(x, y, w, h):
            guard x >= 0, y >= 0, w > 0, h > 0, x + w <= t.shape[2], y + h <= t.shape[1] else {
                throw DataError("\(path): crop box x=\(x) y=\(y) \(w)×\(h) does not fit the \(t.shape[2])×\(t.shape[1]) frame")
            }
            t = try ImageOps.crop(t, x: x, y: y, width: w, height: h)
        case let .center(h, w):
            guard h > 0, w > 0, h <= t.shape[1], w <= t.shape[2] else {
                throw DataError("\(path): centre crop \(w)×\(h) does not fit the \(t.shape[2])×\(t.shape[1]) frame")
            }
            t = try ImageOps.centerCrop(t, height: h, width: w)
        }
        if t.shape[1] == size && t.shape[2] == size { return t }
        let shrinking = t.shape[1] > size || t.shape[2] > size
        return try ImageOps.resize(t, height: size, width: size, mode: shrinking ? .area : .bilinear)
    }
}
