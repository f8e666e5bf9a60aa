import CLua
import CLuaBridge
import Foundation
import MEREval
import MERFiles
import MERTensor
import MERVision

/// Receives rich output from Lua: a MIME bundle (type → text, or base64 for binary types)
/// shown now, or replacing an earlier display with the same id. The Jupyter kernel
/// implements it; MERLua knows nothing of the protocol that carries it.
public protocol DisplaySink: AnyObject {
    func display(_ bundle: [String: String], id: String?, update: Bool)
}

/// `display(x, ...)` and the MIME bundle of a Lua value: tensors with an image's shape as
/// PNG, figures as PNG, finished runs as their report.html, anything else as its tostring.
extension LuaVM {
    func installDisplay() {
        pushBinding(.function("display", """
            display(x, ... [, {id = name}])
            Shows each value: in a notebook as rich output now, mid-cell (an image tensor (C, H, W) with
            C = 1 or 3, or (H, W), of at least 8×8 as a picture; a figure from plot.*; a finished run as
            its report); in scripts and the REPL it prints the value's text form, as print does.
            With a last argument {id = name} the value is shown once per cell under that name and each
            later display(y, {id = name}) replaces it in place (a live training curve).
            """) { call in
            let L = call.L
            var n = call.top
            var id: String?
            if n >= 2, call.isTable(n) {
                lua_pushstring(L, "id")
                let hasID = lua_rawget(L, n) != LUA_TNIL
                mer_pop(L, 1)
                if hasID {
                    id = try call.option(n, "id", Read.string)
                    lua_settop(L, n - 1)
                    n -= 1
                }
            }
            guard let sink = call.vm.displaySink else {
                LuaVM.pushRawGlobal(L, "print")
                mer_insert(L, 1)
                if mer_pcall(L, n, 0, 0) != LUA_OK { throw LuaError(propagatingValueOnStack: "display") }
                return 0
            }
            for i in stride(from: 1, through: n, by: 1) {
                let bundle = call.vm.displayBundle(L, i)
                if let id = id {
                    // The first display of an id in a cell is a new output; later ones replace it.
                    let seen = call.vm.displayIDsInCell.contains(id)
                    call.vm.displayIDsInCell.insert(id)
                    sink.display(bundle, id: "user-" + id, update: seen)
                } else {
                    sink.display(bundle, id: nil, update: false)
                }
            }
            return 0
        }, name: "display")
        lua_setglobal(L, "display")
    }

    /// The MIME bundle of the value at `index` of `L` (the running thread).
    public func displayBundle(_ L: OpaquePointer, _ index: Int32) -> [String: String] {
        let i = lua_absindex(L, index)
        let call = LuaCall(L: L, vm: self, name: "display", isMethod: false)
        var bundle = ["text/plain": LuaVM.protectedToString(L, i)]
        if let t = call.object(i, as: Tensor.self), DisplayImage.isPicture(t),
           let png = try? PNGCodec.encode(t) {
            bundle["image/png"] = png.base64EncodedString()
        } else if let figure = call.object(i, as: FigureBox.self), let png = try? figure.png() {
            bundle["image/png"] = png.base64EncodedString()
        } else if let run = call.object(i, as: RunBox.self), let html = LuaVM.reportHTML(run.run.path) {
            bundle["text/html"] = html
        }
        return bundle
    }

    /// A run's report.html, framed: the page carries its own <html>, <body> and CSS, which
    /// must not restyle the notebook around it.
    static func reportHTML(_ directory: String) -> String? {
        guard let data = try? SafeFile.read(directory + "/report.html", maxBytes: 64 << 20) else { return nil }
        let page = SVG.escape(String(decoding: data, as: UTF8.self))
        return "<iframe srcdoc=\"\(page)\" style=\"width: 100%; height: 900px; border: 1px solid #ddd;\"></iframe>"
    }

    /// tostring(value) in a protected call: a script's __tostring may raise, and no raise
    /// may cross a Swift frame.
    static func protectedToString(_ L: OpaquePointer, _ index: Int32) -> String {
        let i = lua_absindex(L, index)
        LuaVM.pushRawGlobal(L, "tostring")
        lua_pushvalue(L, i)
        defer { mer_pop(L, 1) }
        guard mer_pcall(L, 1, 1, 0) == LUA_OK else {
            return "(tostring failed: \(mer_tostring(L, -1, nil).map { String(cString: $0) } ?? "an error"))"
        }
        return mer_tostring(L, -1, nil).map { String(cString: $0) } ?? "(tostring returned \(String(cString: lua_typename(L, lua_type(L, -1)))))"
    }
}
