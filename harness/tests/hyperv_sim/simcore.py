"""Shared parts of the Hyper-V simulator (simulator.py says what it is and enforces):
the state file and its lock, the JSON answers, the rights check, and the helpers the
VM operations share. A simulator, never Hyper-V."""

import fcntl
import json
import os
import re
import signal
import sys

SFTP_SERVER = "/usr/lib/openssh/sftp-server"
CMD_LINE_MAX = 8191
PROBE = "echo nbprobe %OS% $env:OS; uname -sr"
REQUIRED_FLAGS = ["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass"]
IN_STATE = "The operation cannot be performed while the virtual machine is in its current state."


def out(doc):
    sys.stdout.write(json.dumps(doc, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def fail(kind, message):
    out({"error": message, "kind": kind})
    sys.exit(1)


class State:
    """The state file, locked for the whole call."""

    def __init__(self, path):
        self.path = path
        self.lock = open(path + ".lock", "w")
        fcntl.flock(self.lock, fcntl.LOCK_EX)
        with open(path) as f:
            self.doc = json.load(f)
        self.doc.setdefault("log", [])
        self.doc.setdefault("vms", [])

    def release(self):
        self.lock.close()

    def save(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.doc, f, indent=1)
        os.replace(tmp, self.path)

    def log(self, entry):
        self.doc["log"].append(entry)
        self.save()


def vm_named(state, name):
    found = [v for v in state.doc["vms"] if v["name"] == name]
    if not found:
        fail("vm_not_found", f"no VM named '{name}' on {state.doc['host']['computer']}")
    return found[0]


def check_rights(state):
    host = state.doc["host"]
    if not host.get("hyperv", True):
        fail("no_hyperv", f"the Hyper-V PowerShell module is not installed on {host['computer']}")
    if not host.get("admin", True):
        fail("access_denied", "the account is neither an administrator nor in Hyper-V Administrators")


IN_USE = "The process cannot access the file '{}' because it is being used by another process."


def stop_vm_lines(script):
    return [l for l in script.splitlines() if re.search(r"\bStop-VM\b", l) and not l.lstrip().startswith("#")]


def attached(state, path):
    """The VMs that have `path` attached."""
    return [v for v in state.doc["vms"] if path in v.get("disks", [])]


def refuse(state, what, message):
    state.log("refused:" + what)
    out({"error": message, "kind": "failed"})
    return 1


def kill_tree(pid):
    """SIGKILL `pid` and every process below it."""
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo.extend(children.get(p, []))
    for p in seen:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass


def guest_of(state, vm):
    if vm.get("guest") is None:
        return None
    return state.doc["guests"][vm["guest"]]
