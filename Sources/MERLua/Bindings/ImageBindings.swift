import CLua
import CLuaBridge
import MERTensor
import MERVision

struct GridOptions {
    var columns: Int?, padding = 2, padValue: Float = 1
    static let declared: [Option<GridOptions>] = [
        // Bounded so the grid's size arithmetic cannot overflow (the image-size check comes after it).
        Option("columns", \.columns, Reader { try $0.integer($1, in: 1...(1 << 16), what: "a column count in 1..65536") }),
        Option("padding", \.padding, Reader { try $0.integer($1, in: 0...(1 << 16), what: "a padding in 0..65536") }),
        Option("pad_value", \.padValue, Read.float),
    ]
}

struct SaveImageOptions {
    var quality = 95, bitDepth = 8
    static let declared: [Option<SaveImageOptions>] = [Option("quality", \.quality, Read.integer), Option("bit_depth", \.bitDepth, Read.integer)]
}

/// The `image` global: PNG/JPEG I/O and the plain image operations. Images are (C, H, W)
/// tensors in [0, 1]; pixel coordinates a script passes are 1-based like every index.
extension LuaVM {
    func installImageModule() {
        defineModule("image", [
            .function("max_bytes", arity: 1, """
                image.max_bytes([bytes])
                Sets the most memory one image decode may take (decoder buffer plus tensor; default 512 MiB),
                checked from the file's header before anything is allocated; returns the current limit.
                """) { call in
                if !call.isNil(1) { ImageIO.maxDecodedBytes = try call.integer(1, in: 1...(1 << 40), what: "a byte count in 1...2^40") }
                return call.push(ImageIO.maxDecodedBytes)
            },
            .function("load", arity: 1, """
                image.load(path)
                Reads a PNG or JPEG (format from the file's bytes) into a (C, H, W) tensor in [0, 1]:
                C = 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA.
                """) { call in call.push(try ImageIO.load(path: try call.string(1))) },
            .function("save", arity: 3, """
                image.save(t, path [, {quality=95, bit_depth=8}])
                Writes a (C, H, W) tensor (values clamped to [0, 1]) as PNG or JPEG by the path's extension,
                atomically (a temporary file, then rename).
                """) { call in
                let t = try call.tensor(1), path = try call.string(2)
                let o = try call.options(3, SaveImageOptions.declared, SaveImageOptions())
                try ImageIO.save(t, path: path, quality: o.quality, bitDepth: o.bitDepth)
                return 0
            },
            .function("gray", arity: 1, "image.gray(t)\nLuma (0.299 R + 0.587 G + 0.114 B) as a (1, H, W) tensor; gray input is returned as is.") { call in
                call.push(try ImageOps.gray(try call.tensor(1)))
            },
            .function("resize", arity: 4, """
                image.resize(t, h, w [, {mode="auto"}])
                Resizes (C, H, W) or (N, C, H, W): mode "bilinear" (half-pixel centres, as OpenCV/PyTorch),
                "area" (exact area averaging, for shrinking) or "auto" (area when shrinking, else bilinear).
                """) { call in
                let t = try call.tensor(1), h = try call.positiveInteger(2), w = try call.positiveInteger(3)
                let mode = try call.option(4, "mode", Read.choice(ResizeMode.self)) ?? .auto
                return call.push(try ImageOps.resize(t, height: h, width: w, mode: mode))
            },
            .function("crop", arity: 5, "image.crop(t, x, y, w, h)\nThe w×h box whose top-left pixel is (x, y), 1-based; it must lie inside the image.") { call in
                let t = try call.tensor(1)
                let x = try call.positiveInteger(2), y = try call.positiveInteger(3), w = try call.positiveInteger(4), h = try call.positiveInteger(5)
                return call.push(try ImageOps.crop(t, x: x - 1, y: y - 1, width: w, height: h))
            },
            .function("center_crop", arity: 3, "image.center_crop(t, h, w)\nThe centred h×w box.") { call in
                call.push(try ImageOps.centerCrop(try call.tensor(1), height: try call.positiveInteger(2), width: try call.positiveInteger(3)))
            },
            .function("grid", arity: 2, """
                image.grid(images [, {columns, padding=2, pad_value=1}])
                Tiles a table of (C, H, W) tensors or an (N, C, H, W) batch into one image (gray and RGB mixed
                become RGB); save it with image.save.
                """) { call in
                let o = try call.options(2, GridOptions.declared, GridOptions())
                if let batch = call.object(1, as: Tensor.self) {
                    return call.push(try ImageOps.grid(batch, columns: o.columns, padding: o.padding, padValue: o.padValue))
                }
                return call.push(try ImageOps.grid(try call.tensorList(1), columns: o.columns, padding: o.padding, padValue: o.padValue))
            },
        ])
    }
}
