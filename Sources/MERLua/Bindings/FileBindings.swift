import CLua
import CLuaBridge
import Foundation
import MERFiles

/// `mer.mkdir`, `mer.listdir`, `mer.exists`, `mer.remove`, `mer.read_file`, `mer.write_file`:
/// what recipes need of the file system without a shell (`os.execute`/`io.popen`) and
/// without writing through symbolic links (MERFiles.SafeFile).
extension LuaVM {
    func installFileFunctions() {
        defineModule("mer", [
            .function("mkdir", arity: 1, "mer.mkdir(path)\nMakes a directory and its missing parents (like mkdir -p); an existing one is fine.") { call in
                try SafeFile.makeDirectory(try call.string(1))
                return 0
            },
            .function("listdir", arity: 1, "mer.listdir(path)\nThe names in a directory, sorted, as a table (no . or ..).") { call in
                let names = try SafeFile.list(try call.string(1))
                lua_createtable(call.L, Int32(clamping: names.count), 0)
                for (k, n) in names.enumerated() {
                    lua_pushstring(call.L, n)
                    lua_rawseti(call.L, -2, lua_Integer(k + 1))
                }
                return 1
            },
            .function("exists", arity: 1, "mer.exists(path)\nWhether something is there (a file, a directory, a symbolic link).") { call in
                call.push(SafeFile.exists(try call.string(1)))
            },
            .function("remove", arity: 1, "mer.remove(path)\nRemoves a file, a symbolic link (not its target) or an empty directory.") { call in
                try SafeFile.remove(try call.string(1))
                return 0
            },
            .function("read_file", arity: 2, """
                mer.read_file(path [, max_bytes=67108864])
                The contents of a regular file as a string; a FIFO, a device or a file larger than max_bytes is an error.
                """) { call in
                let path = try call.string(1)
                let limit = call.isNil(2) ? 64 << 20 : try call.integer(2, in: 0...(1 << 40), what: "a byte count")
                let data = try SafeFile.read(path, maxBytes: limit)
                data.withUnsafeBytes { raw in
                    _ = lua_pushlstring(call.L, raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count)
                }
                return 1
            },
            .function("write_file", arity: 2, """
                mer.write_file(path, text)
                Writes text to path atomically (a new temporary file renamed over it): a reader sees the old
                contents or the new, and a symbolic link at path is replaced, never written through.
                """) { call in
                let path = try call.string(1)
                guard lua_type(call.L, 2) == LUA_TSTRING else { throw call.error(2, "expected a string, got \(call.typeName(2))") }
                var length = 0
                let bytes = mer_tostring(call.L, 2, &length)!
                try SafeFile.write(Data(bytes: bytes, count: length), to: path)
                return 0
            },
        ])
    }
}
