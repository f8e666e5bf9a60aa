"""The mer-script kernel driven by a real Jupyter client (jupyter_client), and the example
notebook executed end to end (nbclient). Run by Tests/MERLuaTests/JupyterKernelTests.swift
with JUPYTER_PATH pointing at a kernelspec installed by `mer-script jupyter install --prefix`.

Usage: python kernel_test.py [NOTEBOOK]. Exits non-zero with the failed checks listed."""
import base64
import os
import struct
import sys
import time
import traceback

import zmq
from jupyter_client.manager import start_new_kernel
from jupyter_client.session import Session

failures = []


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        failures.append(what)


def run(kc, code, timeout=60):
    """Executes `code`; returns (reply content, [iopub messages of this request])."""
    msg_id = kc.execute(code)
    reply = kc.get_shell_msg(timeout=timeout)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = kc.get_shell_msg(timeout=timeout)
    outputs = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = kc.get_iopub_msg(timeout=timeout)
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        outputs.append(m)
        if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
            break
    return reply["content"], outputs


def of_type(outputs, t):
    return [m["content"] for m in outputs if m["msg_type"] == t]


def stream_text(outputs, name):
    return "".join(c["text"] for c in of_type(outputs, "stream") if c["name"] == name)


def png_size(b64):
    data = base64.b64decode(b64)
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", data[16:24])


def request(kc, channel, msg_type, content, timeout=30):
    msg = kc.session.msg(msg_type, content)
    getattr(kc, channel + "_channel").send(msg)
    while True:
        reply = getattr(kc, "get_" + channel + "_msg")(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
            return reply


def wait_for_stream(kc, msg_id):
    """Waits until the cell `msg_id` printed something: it surely runs, however loaded the machine."""
    deadline = time.time() + 30
    while time.time() < deadline:
        m = kc.get_iopub_msg(timeout=30)
        if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "stream":
            break
    time.sleep(0.2)


def kernel_checks():
    km, kc = start_new_kernel(kernel_name="mer-script", startup_timeout=60)
    try:
        info = request(kc, "shell", "kernel_info_request", {})["content"]
        check(info["language_info"]["name"] == "lua" and info["protocol_version"].startswith("5."),
              "kernel_info: language lua, protocol 5.x")
        check(kc.is_alive() and kc.hb_channel.is_beating(), "heartbeat answers")

        reply, out = run(kc, "1 + 1")
        results = of_type(out, "execute_result")
        check(reply["status"] == "ok" and results and results[0]["data"]["text/plain"] == "2",
              "an expression's value is the execute_result")
        count = reply["execution_count"]
        reply, out = run(kc, "local a = 20\nkept = a + 1\nkept * 2")
        results = of_type(out, "execute_result")
        check(results and results[0]["data"]["text/plain"] == "42" and reply["execution_count"] == count + 1,
              "a final expression after statements is shown; execution_count counts")
        states = [c["execution_state"] for c in of_type(out, "status")]
        check(states == ["busy", "idle"], "status busy then idle (got %s)" % states)

        reply, out = run(kc, 'print("hello", 1)\nio.stderr:write("warn\\n")\nfor i = 1, 3 do print(i) end')
        check(stream_text(out, "stdout") == "hello\t1\n1\n2\n3\n", "print arrives as a stdout stream: %r" % stream_text(out, "stdout"))
        check(stream_text(out, "stderr") == "warn\n", "io.stderr arrives as a stderr stream")
        check(not of_type(out, "execute_result"), "a cell of statements has no result")

        reply, out = run(kc, 'local function f() error("boom") end\nf()')
        errors = of_type(out, "error")
        check(reply["status"] == "error" and errors and "boom" in errors[0]["evalue"]
              and any("stack traceback" in line for line in errors[0]["traceback"])
              and any("cell:1" in line for line in errors[0]["traceback"]),
              "an error shows its message and the Lua traceback")
        # "Run all": cells queued behind a failing one are aborted, not run.
        # The failing cell runs a while first, so the second is surely queued when it fails.
        first = kc.execute('local t = os.clock()\nwhile os.clock() - t < 0.3 do end\nerror("stop here")')
        second = kc.execute("aborted_ran = true")
        replies = {}
        while len(replies) < 2:
            m = kc.get_shell_msg(timeout=30)
            replies[m["parent_header"]["msg_id"]] = m["content"]["status"]
        check(replies.get(first) == "error" and replies.get(second) == "aborted",
              "a cell queued behind a failing one is aborted (%s)" % list(replies.values()))
        reply, out = run(kc, "tostring(aborted_ran)")
        check([c["data"]["text/plain"] for c in of_type(out, "execute_result")] == ["nil"],
              "an aborted cell never runs (%s %s)" % (reply, [m["content"] for m in out]))

        reply, out = run(kc, "x = = 1")
        check(reply["status"] == "error" and reply["ename"] == "SyntaxError", "a syntax error is an error reply")

        reply, out = run(kc, "tensor.rand{3, 24, 16}")
        data = of_type(out, "execute_result")[0]["data"] if of_type(out, "execute_result") else {}
        check("image/png" in data and png_size(data["image/png"]) == (16, 24) and "text/plain" in data,
              "an image tensor is an inline PNG of its size, with a text form")
        reply, out = run(kc, "tensor.ones{2, 3}")
        data = of_type(out, "execute_result")[0]["data"]
        check("image/png" not in data, "a small matrix is shown as numbers, not a picture")

        reply, out = run(kc, 'print("before")\ndisplay(plot.bar({1, 2, 3}, {names = {"a", "b", "c"}, width = 300, height = 200}))\nprint("after")')
        kinds = [m["msg_type"] for m in out if m["msg_type"] in ("stream", "display_data")]
        shown = of_type(out, "display_data")
        check(kinds == ["stream", "display_data", "stream"] and png_size(shown[0]["data"]["image/png"]) == (300, 200),
              "display(fig) shows a PNG mid-cell, in order with prints (%s)" % kinds)

        reply, out = run(kc, 'local fig = plot.line({{1, 3, 2}, {2, 2, 4}}, {names = {"a", "b"}, title = "curves"})\nfig')
        data = of_type(out, "execute_result")[0]["data"]
        check(png_size(data.get("image/png", "")) == (640, 400) and "curves" in data["text/plain"],
              "a figure as a cell's value is an inline PNG")

        reply, out = run(kc, "local p = eval.progress(3000, 'loop')\nfor k = 1, 3000 do p:update(k, {loss = 1 / k}) end\np:done()")
        first = of_type(out, "display_data")
        updates = of_type(out, "update_display_data")
        ids = {c["transient"]["display_id"] for c in first + updates}
        check(len(first) == 1 and len(ids) == 1 and 1 <= len(updates) <= 40
              and "done 3000/3000" in updates[-1]["data"]["text/plain"] and not stream_text(out, "stdout"),
              "a progress bar is one display updated in place (%d displays, %d updates)" % (len(first), len(updates)))

        reply, out = run(kc, 'io.read("l")')
        check(reply["status"] == "ok" and of_type(out, "execute_result")[0]["data"]["text/plain"] == "nil",
              "io.read at the kernel's empty input returns nil instead of blocking")

        # A finished run shows its report.html, framed so its CSS stays inside.
        reply, out = run(kc, """
local dir = os.tmpname(); os.remove(dir); mer.mkdir(dir)
local r = eval.run{name = "nb", dir = dir}
for e = 1, 3 do r:log{epoch = e, loss = 1 / e} end
r:fold_result{subject = "s1", pred = {1, 2, 2}, target = {1, 2, 1}}
r:finish{classes = {"a", "b"}}
r""", timeout=120)
        data = of_type(out, "execute_result")[0]["data"] if of_type(out, "execute_result") else {}
        html = data.get("text/html", "")
        check(reply["status"] == "ok" and html.startswith("<iframe srcdoc=") and "nb" in html and "&lt;svg" in html,
              "a finished run is shown as its report (text/html)")

        c = request(kc, "shell", "complete_request", {"code": "x = tensor.ze", "cursor_pos": 13})["content"]
        check(c["status"] == "ok" and "tensor.zeros" in c["matches"] and c["cursor_start"] == 4 and c["cursor_end"] == 13,
              "completion of tensor.ze (%s)" % c["matches"])
        c = request(kc, "shell", "complete_request", {"code": "pl", "cursor_pos": 2})["content"]
        check("plot" in c["matches"], "completion of globals")
        c = request(kc, "shell", "inspect_request", {"code": "tensor.zeros(2, 3)", "cursor_pos": 13, "detail_level": 0})["content"]
        check(c["found"] and "tensor.zeros" in c["data"]["text/plain"], "inspect shows help() text")
        c = request(kc, "shell", "inspect_request", {"code": "no_such_name", "cursor_pos": 3, "detail_level": 0})["content"]
        check(c["status"] == "ok" and not c["found"], "inspect of an unknown name finds nothing")
        for code, want in [("for i = 1, 3 do", "incomplete"), ("x = 1", "complete"), ("x = = 1", "invalid"),
                           ("local t = {\n1,", "incomplete"), ("local a = 1\na", "complete")]:
            c = request(kc, "shell", "is_complete_request", {"code": code})["content"]
            check(c["status"] == want, "is_complete %r is %s (got %s)" % (code, want, c["status"]))

        # A forged message (wrong key) is dropped: no reply, and its code never runs.
        ctx = zmq.Context()
        sock = ctx.socket(zmq.DEALER)
        sock.connect("%s://%s:%d" % (km.transport, km.ip, km.shell_port))
        forger = Session(key=b"not-the-key")
        forger.send(sock, "execute_request", {"code": "forged = true", "silent": False, "store_history": True,
                                              "user_expressions": {}, "allow_stdin": False})
        check(sock.poll(1500) == 0, "a badly signed request gets no reply")
        sock.close(0)
        ctx.term()
        reply, out = run(kc, "tostring(forged)")
        check(of_type(out, "execute_result")[0]["data"]["text/plain"] == "nil", "a badly signed request never runs")

        # Interrupt a runaway loop; the kernel and its Lua state survive.
        msg_id = kc.execute('print("spinning")\nwhile true do end')
        wait_for_stream(kc, msg_id)
        km.interrupt_kernel()
        reply = kc.get_shell_msg(timeout=20)
        check(reply["parent_header"]["msg_id"] == msg_id and reply["content"]["status"] == "error"
              and "interrupted!" in reply["content"]["evalue"], "SIGINT stops a running cell with 'interrupted!'")
        reply, out = run(kc, "kept + 1")
        check(reply["status"] == "ok" and of_type(out, "execute_result")[0]["data"]["text/plain"] == "22",
              "after an interrupt the next cell runs in the same state (%s %s)" % (reply, [m["content"] for m in out]))
        # The control channel answers while a cell runs: kernel_info, then an interrupt by message.
        msg_id = kc.execute('print("spinning again")\nwhile true do end')
        wait_for_stream(kc, msg_id)
        info = request(kc, "control", "kernel_info_request", {}, timeout=10)
        check(info["content"]["status"] == "ok", "kernel_info on control is answered while a cell runs")
        answer = request(kc, "control", "interrupt_request", {}, timeout=10)
        reply = kc.get_shell_msg(timeout=20)
        check(answer["content"]["status"] == "ok" and reply["parent_header"]["msg_id"] == msg_id
              and "interrupted!" in reply["content"].get("evalue", ""),
              "interrupt_request on control stops a running cell")
        km.interrupt_kernel()          # an interrupt while idle is harmless
        time.sleep(0.3)
        reply, out = run(kc, "kept")
        check(reply["status"] == "ok" and km.is_alive(), "an interrupt while idle leaves the kernel alive")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    check(not km.is_alive(), "shutdown on control ends the kernel")

    # Shutdown on the shell channel, as older clients send it.
    km, kc = start_new_kernel(kernel_name="mer-script", startup_timeout=60)
    try:
        reply = request(kc, "shell", "shutdown_request", {"restart": False})
        check(reply["msg_type"] == "shutdown_reply" and reply["content"]["status"] == "ok", "shutdown on shell is answered")
        deadline = time.time() + 10
        while km.is_alive() and time.time() < deadline:
            time.sleep(0.1)
        check(not km.is_alive(), "shutdown on shell ends the kernel")
    finally:
        kc.stop_channels()
        if km.is_alive():
            km.shutdown_kernel(now=True)


def shutdown_while_busy_check():
    """A shutdown while a runaway cell runs stops the cell and ends the kernel by itself
    (jupyter_client would kill it after 5 s otherwise)."""
    km, kc = start_new_kernel(kernel_name="mer-script", startup_timeout=60)
    process = km.provisioner.process
    try:
        msg_id = kc.execute('print("busy")\nwhile true do end')
        wait_for_stream(kc, msg_id)
        started = time.time()
        km.shutdown_kernel(now=False)
        elapsed = time.time() - started
        check(process.poll() == 0 and elapsed < 4.5,
              "shutdown while a cell runs ends the kernel cleanly (exit %s after %.1f s)" % (process.poll(), elapsed))
    finally:
        kc.stop_channels()
        if km.has_kernel:
            km.shutdown_kernel(now=True)


def notebook_checks(path):
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(path, as_version=4)
    started = time.time()
    NotebookClient(nb, kernel_name="mer-script", timeout=300,
                   resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}}).execute()
    elapsed = time.time() - started
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    pngs = [o for o in outputs if "image/png" in o.get("data", {})]
    errors = [o for o in outputs if o.get("output_type") == "error"]
    check(not errors, "the notebook runs without errors %s" % [e.get("evalue") for e in errors])
    check(len(pngs) >= 3 and all(png_size(o["data"]["image/png"]) for o in pngs),
          "the notebook shows inline PNGs (%d)" % len(pngs))
    print("notebook executed in %.1f s" % elapsed, flush=True)


if __name__ == "__main__":
    try:
        kernel_checks()
        shutdown_while_busy_check()
        if len(sys.argv) > 1:
            notebook_checks(sys.argv[1])
    except Exception:
        traceback.print_exc()
        failures.append("exception")
    print("%d failed" % len(failures) if failures else "all passed", flush=True)
    sys.exit(1 if failures else 0)
