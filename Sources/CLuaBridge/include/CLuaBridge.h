#ifndef CLUABRIDGE_H
#define CLUABRIDGE_H

// The C side of the Lua host. Lua reports errors by longjmp; a longjmp across Swift
// frames would skip releases and break Swift's exclusivity rules. So Swift functions never
// raise: they return MER_ERROR with the error value on top of the stack, and the
// trampoline below (a C frame) is the only place that calls lua_error.

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

/// Returned by a Swift binding to say "the error value is on top of the stack".
#define MER_ERROR (-1)

/// The Swift dispatcher: runs binding number `id`, returns a result count or MER_ERROR.
typedef int (*mer_Dispatcher)(lua_State *L, int id);

/// Installs the dispatcher (once per process).
void mer_set_dispatcher(mer_Dispatcher dispatcher);

/// Pushes a Lua function that calls binding `id` through the trampoline.
void mer_push_binding(lua_State *L, int id);

/// Pushes a C function usable as a metatable's __index: looks `key` up in `methods`
/// (a table at stack index `methods_index`), and otherwise calls `fallback` (at
/// `fallback_index`) with (object, key). Pops nothing.
void mer_push_indexer(lua_State *L, int methods_index, int fallback_index);

/// Loads and runs nothing: sets the message handler used by protected calls (adds a traceback).
int mer_traceback_handler(lua_State *L);

/// lua_pcall with the traceback handler; returns the Lua status code.
int mer_pcall_traceback(lua_State *L, int nargs, int nresults);

/// Ask the running Lua code to stop at the next instruction hook with `message`
/// (async-signal-safe: used from SIGINT and timeout handlers).
void mer_request_interrupt(lua_State *L, const char *message);
/// Clear a pending interrupt request.
void mer_clear_interrupt(lua_State *L);
/// Non-zero when an interrupt was requested and not yet delivered.
int mer_interrupt_pending(void);

/// Wrappers for Lua's function-like macros, which Swift cannot import.
int mer_upvalueindex(int i);
void mer_pop(lua_State *L, int n);
void mer_newtable(lua_State *L);
int mer_isnoneornil(lua_State *L, int idx);
const char *mer_tostring(lua_State *L, int idx, size_t *len);
void mer_pushglobaltable(lua_State *L);
int mer_registryindex(void);
void mer_remove(lua_State *L, int idx);
void mer_insert(lua_State *L, int idx);
void mer_replace(lua_State *L, int idx);
int mer_pcall(lua_State *L, int nargs, int nresults, int msgh);
void mer_call_gc_step(lua_State *L, int kb);
/// The pointer-sized slot Lua reserves in every thread (copied to coroutines): holds the host.
void **mer_extraspace(lua_State *L);
int mer_loadbuffer(lua_State *L, const char *buff, size_t sz, const char *name);

#endif
