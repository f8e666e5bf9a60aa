/// A Lua-callable function as a value (lauxlib's `luaL_Reg`, plus what `help` and the
/// dispatcher need): modules and types are declared as lists of these and registered by
/// `LuaVM.defineModule` / `defineType`.
///
/// Adding one is adding an entry to such a list, e.g. in `installMerModule`:
///
///     .function("conv_algorithm", arity: 1, "mer.conv_algorithm([name])\nWhat it does.") { call in
///         if !call.isNil(1) { Conv.algorithm = try call.choice(1, Conv.Algorithm.self) }
///         return call.push(Conv.algorithm.rawValue)
///     },
///
/// Arguments are read with the `LuaCall` readers in `Arguments/` (which check types and
/// ranges and throw `ArgumentError`s naming the argument), options are decoded into a struct
/// declared with `Option`s, and results are pushed with `call.push`, which returns the count.
struct Binding {
    /// The field it is stored under (`zeros`, `__add`).
    let key: String
    /// The name errors and `help` show when it is not `<prefix>.<key>` (`__add` is `tensor.add`).
    var name: String?
    /// Methods take `self` in slot 1, which argument numbers do not count.
    let isMethod: Bool
    /// The most arguments a caller may pass (`self` not counted); nil: not checked.
    let arity: Int32?
    /// Help text: the signature on the first line, then what it does. Metamethods have none.
    let doc: String?
    let body: (LuaCall) throws -> Int32

    static func function(_ key: String, arity: Int32? = nil, _ doc: String,
                         _ body: @escaping (LuaCall) throws -> Int32) -> Binding {
        Binding(key: key, name: nil, isMethod: false, arity: arity, doc: doc, body: body)
    }

    /// A metamethod or other internal entry (`__add`, `__len`), named `name` in errors.
    static func meta(_ key: String, name: String? = nil, method: Bool = false,
                     _ body: @escaping (LuaCall) throws -> Int32) -> Binding {
        Binding(key: key, name: name, isMethod: method, arity: nil, doc: nil, body: body)
    }
}

/// A method of the userdata type `Object`: its body receives the checked `self`.
struct Method<Object: LuaObject> {
    let binding: Binding

    init(_ key: String, arity: Int32? = nil, _ doc: String, _ body: @escaping (LuaCall, Object) throws -> Int32) {
        binding = Binding(key: key, name: nil, isMethod: true, arity: arity, doc: doc) { call in
            try body(call, try Object.check(call, 1))
        }
    }
}

/// A field of a userdata type (`t.grad`, `opt.lr`): a getter, and a setter for the value
/// in stack slot 3 when scripts may assign it.
struct Property<Object: LuaObject> {
    let key: String
    let doc: String
    let get: (LuaCall, Object) throws -> Int32
    let set: ((LuaCall, Object) throws -> Void)?

    init(_ key: String, _ doc: String, get: @escaping (LuaCall, Object) throws -> Int32,
         set: ((LuaCall, Object) throws -> Void)? = nil) {
        self.key = key
        self.doc = doc
        self.get = get
        self.set = set
    }
}
