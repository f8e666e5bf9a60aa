#include "CLuaBridge.h"
#include <signal.h>
#include <string.h>

static mer_Dispatcher dispatcher = 0;

void mer_set_dispatcher(mer_Dispatcher d) { dispatcher = d; }

// The only place a Swift binding's error becomes a Lua error: the Swift frames have all
// returned by the time lua_error longjmps out of this C frame.
static int trampoline(lua_State *L) {
    int id = (int)lua_tointeger(L, lua_upvalueindex(1));
    int n = dispatcher(L, id);
    if (n < 0) return lua_error(L);
    return n;
}

void mer_push_binding(lua_State *L, int id) {
    lua_pushinteger(L, id);
    lua_pushcclosure(L, trampoline, 1);
}

// __index for userdata: methods first (a raw table lookup, no Swift involved, so method
// calls stay cheap), then the fallback for fields (`t.grad`) and integer keys (`t[1]`).
static int indexer(lua_State *L) {
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
    lua_pop(L, 1);
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_call(L, 2, 1);
    return 1;
}

void mer_push_indexer(lua_State *L, int methods_index, int fallback_index) {
    methods_index = lua_absindex(L, methods_index);
    fallback_index = lua_absindex(L, fallback_index);
    lua_pushvalue(L, methods_index);
    lua_pushvalue(L, fallback_index);
    lua_pushcclosure(L, indexer, 2);
}

int mer_traceback_handler(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

int mer_pcall_traceback(lua_State *L, int nargs, int nresults) {
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, mer_traceback_handler);
    lua_insert(L, base);
    int status = lua_pcall(L, nargs, nresults, base);
    lua_remove(L, base);
    return status;
}

// Interrupts follow lua.c: the signal handler only installs a hook; the hook, running
// inside the Lua VM, raises the error.
static volatile sig_atomic_t interrupt_pending = 0;
static const char *interrupt_message = "interrupted";

static void interrupt_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    interrupt_pending = 0;
    luaL_error(L, "%s", interrupt_message);
}

void mer_request_interrupt(lua_State *L, const char *message) {
    interrupt_message = message;
    interrupt_pending = 1;
    lua_sethook(L, interrupt_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

void mer_clear_interrupt(lua_State *L) {
    interrupt_pending = 0;
    lua_sethook(L, NULL, 0, 0);
}

int mer_interrupt_pending(void) { return interrupt_pending; }

int mer_upvalueindex(int i) { return lua_upvalueindex(i); }
void mer_pop(lua_State *L, int n) { lua_pop(L, n); }
void mer_newtable(lua_State *L) { lua_newtable(L); }
int mer_isnoneornil(lua_State *L, int idx) { return lua_isnoneornil(L, idx); }
const char *mer_tostring(lua_State *L, int idx, size_t *len) { return lua_tolstring(L, idx, len); }
void mer_pushglobaltable(lua_State *L) { lua_pushglobaltable(L); }
int mer_registryindex(void) { return LUA_REGISTRYINDEX; }
void mer_remove(lua_State *L, int idx) { lua_remove(L, idx); }
void mer_insert(lua_State *L, int idx) { lua_insert(L, idx); }
void mer_replace(lua_State *L, int idx) { lua_replace(L, idx); }
int mer_pcall(lua_State *L, int nargs, int nresults, int msgh) { return lua_pcall(L, nargs, nresults, msgh); }
void mer_call_gc_step(lua_State *L, int kb) { lua_gc(L, LUA_GCSTEP, kb); }
int mer_loadbuffer(lua_State *L, const char *buff, size_t sz, const char *name) {
    return luaL_loadbuffer(L, buff, sz, name);
}
void **mer_extraspace(lua_State *L) { return (void **)lua_getextraspace(L); }
