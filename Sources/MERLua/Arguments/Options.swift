import CLua
import CLuaBridge
import MERTensor

/// How to read one Lua value of type `Value`: the same readers serve positional arguments
/// and option fields, so an option is checked exactly as an argument would be.
struct Reader<Value> {
    let read: (LuaCall, Int32) throws -> Value
    init(_ read: @escaping (LuaCall, Int32) throws -> Value) { self.read = read }
}

/// The readers options are declared with.
enum Read {
    static let integer = Reader { try $0.integer($1) }
    static let positive = Reader { try $0.positiveInteger($1) }
    static let nonNegative = Reader { try $0.nonNegativeInteger($1) }
    static let seed = Reader { try $0.seed($1) }
    static let number = Reader { try $0.number($1) }
    static let float = Reader { try $0.float($1) }
    static let boolean = Reader { try $0.boolean($1) }
    static let string = Reader { try $0.string($1) }
    static let strings = Reader { try $0.stringList($1) }
    static let tensor = Reader { try $0.tensor($1) }
    static let floatPair = Reader { try $0.floatPair($1) }
    static let range = Reader { call, i -> ClosedRange<Float> in
        let (a, b) = try call.floatPair(i, ordered: true)
        return a...b
    }
    static func number(in range: ClosedRange<Double>, _ what: String? = nil) -> Reader<Double> {
        Reader { try $0.number($1, in: range, what: what) }
    }
    static func float(in range: ClosedRange<Double>, _ what: String? = nil) -> Reader<Float> {
        Reader { try $0.float($1, in: range, what: what) }
    }
    static func integer(in range: ClosedRange<Int>, _ what: String? = nil) -> Reader<Int> {
        Reader { try $0.integer($1, in: range, what: what) }
    }
    static func pair(minimum: Int = 1) -> Reader<(Int, Int)> { Reader { try $0.pair($1, minimum: minimum) } }
    static func integers(_ what: String, minimum: Int? = nil) -> Reader<[Int]> {
        Reader { try $0.integerList($1, what: what, allowVarargs: false, minimum: minimum) }
    }
    static func choice<T: RawRepresentable & CaseIterable>(_ type: T.Type) -> Reader<T> where T.RawValue == String {
        Reader { try $0.choice($1, type) }
    }
}

/// One named option (the key written once, with its reader, which carries the type and
/// range); the default is the initial value of the field it sets in the options struct.
struct Option<Root> {
    let key: String
    let apply: (LuaCall, Int32, inout Root) throws -> Void

    init<Value>(_ key: String, _ field: WritableKeyPath<Root, Value>, _ reader: Reader<Value>) {
        self.key = key
        apply = { call, i, root in root[keyPath: field] = try reader.read(call, i) }
    }

    init<Value>(_ key: String, _ field: WritableKeyPath<Root, Value?>, _ reader: Reader<Value>) {
        self.key = key
        apply = { call, i, root in root[keyPath: field] = try reader.read(call, i) }
    }

    /// An option that sets more than one field (`config = "quick"` picks a preset).
    init(_ key: String, _ apply: @escaping (LuaCall, Int32, inout Root) throws -> Void) {
        self.key = key
        self.apply = apply
    }
}

extension LuaCall {
    /// Decodes the options table at `i` (nil/none: the defaults in `base`). Options apply in
    /// the order declared, so a preset can come first and single keys refine it. Unknown keys
    /// are an error, so a typo (`{strid=2}`) does not pass silently; a wrong value is reported
    /// under its key's name.
    func options<Root>(_ i: Int32, _ declared: [Option<Root>], _ base: Root) throws -> Root {
        if isNil(i) { return base }
        let keys = declared.map(\.key)
        guard isTable(i) else { throw error(i, "expected an options table, got \(typeName(i))") }
        let t = lua_absindex(L, i)
        lua_pushnil(L)
        while lua_next(L, t) != 0 {
            mer_pop(L, 1)
            guard isString(-1) else {
                mer_pop(L, 1)
                throw error(t, "options must be given by name ({\(keys.joined(separator: ", "))})")
            }
            let key = String(cString: mer_tostring(L, -1, nil))
            if !keys.contains(key) {
                mer_pop(L, 1)
                throw error(t, "unknown option '\(key)' (expected one of: \(keys.joined(separator: ", ")))")
            }
        }
        var root = base
        for option in declared {
            lua_pushstring(L, option.key)
            defer { mer_pop(L, 1) }
            if lua_rawget(L, t) == LUA_TNIL { continue }
            do { try option.apply(self, top, &root) } catch let e as ArgumentError where e.argument == top || e.argument == nil {
                throw e.within(t, "option '\(option.key)'")
            }
        }
        return root
    }

    /// The one option of a binding that takes a single one (`{strict = false}`).
    func option<Value>(_ i: Int32, _ key: String, _ reader: Reader<Value>) throws -> Value? {
        try options(i, [Option<Value?>(key, \.self, reader)], nil)
    }
}
