import CLua
import CLuaBridge
import MERTensor
import MERVision

/// The `image` global: PNG/JPEG I/O and the plain image operations. Images are (C, H, W)
/// tensors in [0, 1]; pixel coordinates a script passes are 1-based like every index.
extension LuaVM {
    func installImageModule() {
        lua_createtable(L, 0, 16)
        setFunction("load", "image.load", doc: """
            image.load(path)
            Reads a PNG or JPEG (format from the file's bytes) into a (C, H, W) tensor in [0, 1]:
            C = 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA.
            """) { call in
            try call.expectAtMost(1)
            call.push(try ImageIO.load(path: try call.string(1)))
            return 1
        }
        setFunction("save", "image.save", doc: """
            image.save(t, path [, {quality=95, bit_depth=8}])
            Writes a (C, H, W) tensor (values clamped to [0, 1]) as PNG or JPEG by the path's extension,
            atomically (a temporary file, then rename).
            """) { call in
            try call.expectAtMost(3)
            let t = try call.tensor(1), path = try call.string(2)
            let o = try call.options(3, allowed: ["quality", "bit_depth"])
            try ImageIO.save(t, path: path, quality: try o?.integer("quality") ?? 95, bitDepth: try o?.integer("bit_depth") ?? 8)
            return 0
        }
        setFunction("gray", "image.gray", doc: "image.gray(t)\nLuma (0.299 R + 0.587 G + 0.114 B) as a (1, H, W) tensor; gray input is returned as is.") { call in
            try call.expectAtMost(1)
            call.push(try ImageOps.gray(try call.tensor(1)))
            return 1
        }
        setFunction("resize", "image.resize", doc: """
            image.resize(t, h, w [, {mode="auto"}])
            Resizes (C, H, W) or (N, C, H, W): mode "bilinear" (half-pixel centres, as OpenCV/PyTorch),
            "area" (exact area averaging, for shrinking) or "auto" (area when shrinking, else bilinear).
            """) { call in
            try call.expectAtMost(4)
            let t = try call.tensor(1)
            let h = try call.positiveInteger(2), w = try call.positiveInteger(3)
            let o = try call.options(4, allowed: ["mode"])
            var mode = ResizeMode.auto
            if let m = try o?.string("mode") {
                guard let parsed = ResizeMode(rawValue: m) else { throw call.error(4, "option 'mode': expected \"auto\", \"bilinear\" or \"area\", got \"\(m)\"") }
                mode = parsed
            }
            call.push(try ImageOps.resize(t, height: h, width: w, mode: mode))
            return 1
        }
        setFunction("crop", "image.crop", doc: "image.crop(t, x, y, w, h)\nThe w×h box whose top-left pixel is (x, y), 1-based; it must lie inside the image.") { call in
            try call.expectAtMost(5)
            let t = try call.tensor(1)
            let x = try call.positiveInteger(2), y = try call.positiveInteger(3)
            let w = try call.positiveInteger(4), h = try call.positiveInteger(5)
            call.push(try ImageOps.crop(t, x: x - 1, y: y - 1, width: w, height: h))
            return 1
        }
        setFunction("center_crop", "image.center_crop", doc: "image.center_crop(t, h, w)\nThe centred h×w box.") { call in
            try call.expectAtMost(3)
            call.push(try ImageOps.centerCrop(try call.tensor(1), height: try call.positiveInteger(2), width: try call.positiveInteger(3)))
            return 1
        }
        setFunction("grid", "image.grid", doc: """
            image.grid(images [, {columns, padding=2, pad_value=1}])
            Tiles a table of (C, H, W) tensors or an (N, C, H, W) batch into one image (gray and RGB mixed
            become RGB); save it with image.save.
            """) { call in
            try call.expectAtMost(2)
            let o = try call.options(2, allowed: ["columns", "padding", "pad_value"])
            let columns = try o?.value("columns") { try call.positiveInteger($0) }
            let padding = try o?.integer("padding") ?? 2
            let pad = try o?.float("pad_value") ?? 1
            if let batch = call.object(1, typeName: "tensor", as: Tensor.self) {
                call.push(try ImageOps.grid(batch, columns: columns, padding: padding, padValue: pad))
            } else {
                call.push(try ImageOps.grid(try call.tensorList(1), columns: columns, padding: padding, padValue: pad))
            }
            return 1
        }
        lua_setglobal(L, "image")
    }
}
