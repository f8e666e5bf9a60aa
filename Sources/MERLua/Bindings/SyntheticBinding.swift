import CLua
import CLuaBridge
import MERData
import MERVision

extension LuaVM {
    /// `data.synthetic{...}`: the built-in procedural micro-expressions.
    func installSyntheticData() {
        lua_getglobal(L, "data")
        setFunction("synthetic", "data.synthetic", doc: """
            data.synthetic{subjects=8, per_class=4, size=112, seed=0, input={"onset","apex"},
                           intensity={1, 3}, head_motion=0.3, noise=0.01, illumination=0.01}
            The built-in data set: procedural grey-level faces with per-subject identity, onset/apex pairs whose apex
            carries a subtle action-unit deformation (happiness AU6+12, disgust AU4+9, repression AU14/17, surprise
            AU1+2, others mixed); subjects × 5 × per_class samples, CASME II's 5 class names. Same seed, same pixels.
            """) { call in
            try call.expectAtMost(1)
            let o = try call.options(1, allowed: ["subjects", "per_class", "size", "seed", "input", "intensity",
                                                  "head_motion", "noise", "illumination", "cache"])
            var s = SyntheticOptions()
            if let v = try o?.value("subjects", { try call.positiveInteger($0) }) { s.subjects = v }
            if let v = try o?.value("per_class", { try call.positiveInteger($0) }) { s.perClass = v }
            if let v = try o?.value("size", { try call.positiveInteger($0) }) { s.size = v }
            if let v = try o?.integer("seed") {
                guard v >= 0 else { throw call.error(1, "option 'seed': expected a non-negative integer, got \(v)") }
                s.seed = UInt64(v)
            }
            if let v = try o?.value("intensity", { try call.floatPair($0) }) {
                guard v.0 <= v.1 else { throw call.error(1, "option 'intensity': expected {low, high} with low <= high") }
                s.intensity = v.0...v.1
            }
            if let v = try o?.float("head_motion") { s.headMotion = v }
            if let v = try o?.float("noise") { s.noise = v }
            if let v = try o?.float("illumination") { s.illumination = v }
            var input = ["onset", "apex"]
            if let v = try o?.value("input", { try call.stringList($0) }) { input = v }
            call.pushDataset(try SyntheticDataset(options: s, input: input, cache: try o?.boolean("cache") ?? true))
            return 1
        }
        mer_pop(L, 1)
    }
}

extension LuaCall {
    func stringList(_ i: Int32) throws -> [String] {
        guard isTable(i) else { throw error(i, "expected a table of strings, got \(typeName(i))") }
        let n = Int(lua_rawlen(L, i))
        return try (0..<n).map { k in
            lua_rawgeti(L, i, lua_Integer(k + 1)); defer { mer_pop(L, 1) }
            return try string(lua_gettop(L))
        }
    }
}
