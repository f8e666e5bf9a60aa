import XCTest
import CLua
import CPNG
import CJPEG

/// Proves the three system-library targets resolve through pkg-config, compile and link.
final class SystemLibrariesTests: XCTestCase {
    func testLuaStateRunsAChunk() {
        let L = luaL_newstate()
        XCTAssertNotNil(L)
        luaL_openlibs(L)
        XCTAssertEqual(luaL_loadstring(L, "return 6 * 7"), LUA_OK)
        XCTAssertEqual(lua_pcallk(L, 0, 1, 0, 0, nil), LUA_OK)
        XCTAssertEqual(lua_tointegerx(L, -1, nil), 42)
        lua_close(L)
    }

    func testLibpngIsVersion16() {
        let version = String(cString: png_get_libpng_ver(nil))
        XCTAssertTrue(version.hasPrefix("1.6"), "libpng \(version)")
    }

    func testLibjpegCreatesADecompressor() {
        var err = jpeg_error_mgr()
        var cinfo = jpeg_decompress_struct()
        cinfo.err = jpeg_std_error(&err)
        jpeg_CreateDecompress(&cinfo, JPEG_LIB_VERSION, MemoryLayout<jpeg_decompress_struct>.size)
        XCTAssertEqual(cinfo.global_state, 200) // DSTATE_START
        jpeg_destroy_decompress(&cinfo)
    }
}
