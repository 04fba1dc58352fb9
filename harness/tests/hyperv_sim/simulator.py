#!/usr/bin/env python3
"""Hyper-V simulator: stands in for a Windows Hyper-V host behind a real sshd.

It is a simulator, not Hyper-V: it speaks the JSON contract of nestbench's PowerShell
operations (harness/src/powershell/ps/*.ps1) and enforces the documented Hyper-V
behaviour that `nestbench hyperv prepare` depends on. It never runs PowerShell.

Installed as sshd's ForceCommand (`simulator.py STATE.json`), it answers what
Windows OpenSSH would run:
  - the OS probe, as cmd.exe or PowerShell (the host's "shell" in the state) prints it;
  - `powershell -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand B64`
    (base64 of UTF-16LE) or `... -File "PATH"` (a script uploaded over SFTP, which
    deletes itself as it starts): the script's `# nestbench-op:` line picks the
    operation, its here-string holds the JSON input;
  - the SFTP subsystem (handed to OpenSSH's sftp-server).
Like cmd.exe it refuses a command line over 8,191 characters.

Hyper-V's rules it enforces (docs/hyperv.md):
  - processor, memory and configuration-version changes are refused unless the VM is
    Off ("The operation cannot be performed while the virtual machine is in its
    current state"); a Saved VM refuses every change until its saved state is
    discarded, and discarding needs a Saved VM;
  - a Stop-VM without -TurnOff waits for the guest to shut down: with a hung guest
    ("guest_hung": true) it never returns (the simulator blocks until killed);
  - the caller must be an administrator, the Hyper-V module present, the VM exist.
Every change made is appended to the state's "log", so a test sees exactly what was
changed and in which order; refused ones are logged as "refused:<op>".

For `run --backend hyperv` it also creates, starts, copies into and removes VMs
(the hyperv_* operations), and enforces what the backend depends on:
  - New-VHD -Differencing is refused when the parent is missing or in use (attached to
    a VM that is not Off); New-VM refuses a switch the host does not have;
  - nesting, processor and memory settings are refused unless the VM is Off (as above);
  - Remove-VM leaves the VM's VHDX files: only Remove-Item (remove_files) deletes them,
    and that is refused while the file is attached to a VM that is not Off;
  - Copy-VMFile needs a running VM and a source that exists;
  - a started VM's address appears only after its guest's "address_delay_s" (never
    when that is null), as the integration services report it once the guest's
    network is up;
  - a Stop-VM without -TurnOff on a hung guest never returns.
What a VM's address leads to is a guest stand-in, one entry of the state's "guests"
pool: a real sshd started in that entry's network namespace on Start-VM, with the
host key and authorized key read from the VM's config disk (what the guest's
first-boot task or cloud-init would install). A Windows guest's sshd runs this same
simulator on its own state file (a nested Hyper-V host, whose agent is the Linux one
the test passes as the Windows agent); a Linux guest's sshd runs commands itself.
Turning a VM off kills its sshd and everything below it: nested VMs die with it.
Every VM operation is logged as "<op>:<vm>", each file removal as "remove_file:<name>".
"""

import base64
import fcntl
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time

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


def os_facts(state, _input, _script):
    host = state.doc["host"]
    out({
        "caption": host["caption"],
        "build": host["build"],
        "version": f"10.0.{host['build']}",
        "arch": "AMD64",
        "temp": host["temp"],
        "hypervisor": True,
        "hyperv_host": host.get("hyperv", True),
    })
    return 0


def inspect(state, inp, _script):
    check_rights(state)
    vm = vm_named(state, inp["vm"])
    host = state.doc["host"]
    out({
        "host": {k: host[k] for k in ["computer", "caption", "build", "cpu_vendor", "cpu_name", "max_config_version"]},
        "vm": {
            "name": vm["name"],
            "state": vm["state"],
            "version": vm["version"],
            "expose_virtualization_extensions": vm["expose"],
            "processor_count": vm["count"],
            "dynamic_memory": vm["dynamic"],
            "startup_bytes": vm["startup_bytes"],
            "checkpoint_type": vm["checkpoint_type"],
            "automatic_checkpoints": vm.get("automatic_checkpoints"),
            "adapters": vm["adapters"],
            "guest_os": vm.get("guest_os") if vm["state"] == "Running" else None,
        },
    })
    return 0


def stop_vm_lines(script):
    return [l for l in script.splitlines() if re.search(r"\bStop-VM\b", l) and not l.lstrip().startswith("#")]


def apply_step(state, vm, step, script):
    op = step["op"]
    host = state.doc["host"]
    if op == "turn_off":
        forced = all("-TurnOff" in l and "-Force" in l for l in stop_vm_lines(script))
        if not forced and vm.get("guest_hung"):
            # A shutdown request to a guest that never answers: Stop-VM waits forever.
            state.log("stop-vm waiting on a hung guest")
            while True:
                time.sleep(3600)
        vm["state"] = "Off"
    elif vm["state"] == "Saved" and op != "discard_saved_state":
        raise RuntimeError(f"{IN_STATE} (Saved: discard the saved state first)")
    elif op == "discard_saved_state":
        if vm["state"] != "Saved":
            raise RuntimeError(f"{IN_STATE} ({vm['state']}: there is no saved state)")
        vm["state"] = "Off"
    elif op in ("mac_spoofing_on", "checkpoints_off", "automatic_checkpoints_off"):
        # Hyper-V changes these on a running VM too.
        if op == "mac_spoofing_on":
            for a in vm["adapters"]:
                a["mac_spoofing"] = "On"
        elif op == "checkpoints_off":
            vm["checkpoint_type"] = "Disabled"
        else:
            vm["automatic_checkpoints"] = False
    else:
        if vm["state"] != "Off":
            raise RuntimeError(f"{IN_STATE} ({vm['state']})")
        if op == "update_version":
            vm["version"] = host["max_config_version"]
        elif op == "expose_virtualization_extensions":
            vm["expose"] = True
        elif op == "processor_count":
            vm["count"] = int(step["count"])
        elif op == "dynamic_memory_off":
            vm["dynamic"] = False
        elif op == "startup_memory":
            vm["startup_bytes"] = int(step["bytes"])
        else:
            raise RuntimeError(f"unknown step '{op}'")
    state.log(op)


def apply(state, inp, script):
    check_rights(state)
    vm = vm_named(state, inp["vm"])
    done = []
    for step in inp["steps"]:
        try:
            apply_step(state, vm, step, script)
        except RuntimeError as e:
            state.log("refused:" + step["op"])
            out({"done": done, "failed": {"step": step["op"], "error": str(e)}})
            return 1
        done.append(step["op"])
    out({"done": done})
    return 0


def deploy_agent(state, inp, _script):
    """A Windows level's deploy, done the simulator's way: the agent is unpacked and
    its size and SHA-256 checked as the script does; a Linux binary (what some tests
    pass as the "Windows" agent) runs as it is, a real Windows agent (PE) is replaced by
    the host's "linux_agent" stand-in, since nothing here runs Windows programs."""
    import gzip
    import hashlib
    import subprocess

    packed, exe = inp["packed"], inp["exe"]
    crash = state.doc["host"].get("turned_off_during_agent")
    if crash:
        # Someone turns this guest's VM off on its host while the agent starts.
        parent = State(crash)
        for v in parent.doc["vms"]:
            g = guest_of(parent, v)
            if g and g.get("state") == state.path and v["state"] == "Running":
                pid, v["state"], v["pid"] = v["pid"], "Off", None
                parent.log("turned off outside nestbench:" + v["name"])
                parent.release()
                state.release()
                kill_tree(pid)
                time.sleep(60)
    code = 1
    try:
        with gzip.open(packed) as f:
            data = f.read()
        with open(exe, "wb") as f:
            f.write(data)
        os.remove(packed)
        os.chmod(exe, 0o755)
        digest = hashlib.sha256(data).hexdigest()
        sys.stdout.write(f"{len(data)} {digest}\n")
        sys.stdout.flush()
        if len(data) == inp["size"] and digest == inp["sha256"]:
            run = [exe]
            stand_in = state.doc["host"].get("linux_agent")
            if data[:2] == b"MZ":
                # A real Windows agent arrived, verified; with no Windows (and no Wine)
                # to run it, the Linux agent the test named measures in its place.
                if not stand_in:
                    sys.stderr.write("simulator: cannot run a Windows executable (no linux_agent stand-in)\n")
                    return 1
                sys.stderr.write("simulator: the Windows agent arrived intact; the Linux agent runs in its place\n")
                run = [stand_in]
            code = subprocess.run(run + ["info"]).returncode
            if code == 0:
                code = subprocess.run(run + inp["run"]).returncode
    finally:
        for p in (packed, exe):
            if os.path.exists(p):
                os.remove(p)
    return code


def remove_files(state, inp, _script):
    removed = []
    for p in inp.get("paths", []):
        busy = [v for v in attached(state, p) if v["state"] != "Off"]
        if busy:
            state.log("refused:remove_file:" + os.path.basename(p))
            out({"error": "Remove-Item: " + IN_USE.format(p), "kind": "failed"})
            return 1
        if os.path.exists(p):
            os.remove(p)
            removed.append(p)
            if p.endswith(".vhdx"):
                state.log("remove_file:" + os.path.basename(p))
            # A guest's files lived on its differencing disk: they go with it.
            g = state.doc.get("disk_guests", {}).pop(p, None)
            if g is not None:
                guest = state.doc["guests"][g]
                left = [os.path.join(guest["dir"], f) for f in os.listdir(guest["dir"]) if f.startswith("nestbench-")]
                for c in guest.get("copied", []) + left:
                    if os.path.exists(c):
                        os.remove(c)
    state.save()
    out({"removed": removed})
    return 0



IN_USE = "The process cannot access the file '{}' because it is being used by another process."


def attached(state, path):
    """The VMs that have `path` attached."""
    return [v for v in state.doc["vms"] if path in v.get("disks", [])]


def hyperv_host(state, _inp, _script):
    check_rights(state)
    host = state.doc["host"]
    out({
        "computer": host["computer"],
        "hyperv_version": host.get("hyperv_version", f"10.0.{host['build']}.1"),
        "logical_processors": host.get("logical_processors", 16),
        "memory_free_bytes": host.get("memory_free_bytes", 64 << 30),
        "max_config_version": host["max_config_version"],
    })
    return 0


def refuse(state, what, message):
    state.log("refused:" + what)
    out({"error": message, "kind": "failed"})
    return 1


def create_vm(state, inp, _script):
    check_rights(state)
    name, parent = inp["vm"], inp["parent"]
    if any(v["name"] == name for v in state.doc["vms"]):
        out({"error": f"a VM named '{name}' already exists", "kind": "exists"})
        return 1
    if not os.path.isfile(parent):
        return refuse(state, "create_vm:" + name, f"New-VHD: the parent '{parent}' cannot be found.")
    if any(v["state"] != "Off" for v in attached(state, parent)):
        return refuse(state, "create_vm:" + name, "New-VHD: " + IN_USE.format(parent))
    switches = state.doc["host"].get("switches", ["External"])
    if inp["switch"] not in switches:
        return refuse(state, "create_vm:" + name, f"New-VM: no virtual switch named '{inp['switch']}' ({', '.join(switches)})")
    with open(inp["disk"], "w") as f:
        json.dump({"differencing": True, "parent": parent}, f)
    with open(inp["config_disk"], "w") as f:
        json.dump({"label": "cidata", "files": inp["files"]}, f)
    pool = state.doc.get("guests", [])
    index = state.doc.get("next_guest", 0)
    state.doc["next_guest"] = index + 1
    guest = pool[index] if index < len(pool) else None
    if guest:
        state.doc.setdefault("disk_guests", {})[inp["disk"]] = index
    state.doc["vms"].append({
        "name": name, "state": "Off", "version": state.doc["host"]["max_config_version"],
        "expose": False, "count": 1, "dynamic": False, "startup_bytes": int(inp["memory_bytes"]),
        "checkpoint_type": "Production", "automatic_checkpoints": True, "generation": 2,
        "adapters": [{"name": "Network Adapter", "mac_spoofing": "Off", "switch": inp["switch"]}],
        "disks": [inp["disk"], inp["config_disk"]], "guest": index if guest else None,
        "guest_hung": bool(guest and guest.get("hung")), "pid": None, "started_at": None,
        "guest_service": True, "linux": bool(inp.get("linux")),
    })
    state.log("create_vm:" + name)
    out({"vm": name, "version": state.doc["host"]["max_config_version"], "disk": inp["disk"], "config_disk": inp["config_disk"]})
    return 0


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


def power_off(state, vm):
    """The VM off at once: its guest's sshd killed, and every VM nested in it."""
    if vm.get("pid"):
        kill_tree(vm["pid"])
    vm["pid"] = None
    vm["state"] = "Off"
    guest = guest_of(state, vm)
    if guest and guest.get("state"):
        nested = State(guest["state"])
        for v in nested.doc["vms"]:
            if v["state"] != "Off":
                power_off(nested, v)
        nested.save()
        nested.release()


def guest_of(state, vm):
    if vm.get("guest") is None:
        return None
    return state.doc["guests"][vm["guest"]]


def boot(state, vm):
    """The guest stand-in: an sshd in the guest's namespace with the config disk's keys."""
    guest = guest_of(state, vm)
    if guest is None or not guest.get("netns"):
        return  # no guest stand-in: the VM only reports its address
    with open(vm["disks"][1]) as f:
        files = json.load(f)["files"]
    d = guest["dir"]
    os.makedirs(d, exist_ok=True)
    key = os.path.join(d, "ssh_host_ed25519_key")
    with open(key, "w") as f:
        f.write(files["nestbench/ssh_host_ed25519_key"])
    os.chmod(key, 0o600)
    with open(os.path.join(d, "authorized_keys"), "w") as f:
        f.write(files["nestbench/authorized_keys"])
    conf = (f"Port 22\nListenAddress {guest['addr']}\nHostKey {key}\nPidFile none\n"
            f"AuthorizedKeysFile {d}/authorized_keys\nPermitRootLogin prohibit-password\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\nStrictModes no\n"
            f"UsePAM no\nAllowTcpForwarding yes\nLogLevel VERBOSE\nSubsystem sftp {SFTP_SERVER}\n")
    if guest.get("state"):
        conf += f"ForceCommand /usr/bin/python3 {os.path.abspath(__file__)} {guest['state']}\n"
    conf_path = os.path.join(d, "sshd.conf")
    with open(conf_path, "w") as f:
        f.write(conf)
    log_path = os.path.join(d, "sshd.log")
    log = open(log_path, "w")
    p = subprocess.Popen(["ip", "netns", "exec", guest["netns"], "/usr/sbin/sshd", "-D", "-e", "-f", conf_path],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    t0 = time.time()
    while time.time() - t0 < 15 and p.poll() is None:
        with open(log_path) as f:
            if "Server listening" in f.read():
                break
        time.sleep(0.05)
    vm["pid"] = p.pid


def start_vm(state, inp, _script):
    check_rights(state)
    vm = vm_named(state, inp["vm"])
    if vm["state"] != "Off":
        return refuse(state, "start_vm:" + vm["name"], f"{IN_STATE} ({vm['state']})")
    for disk in vm["disks"]:
        if not os.path.isfile(disk):
            return refuse(state, "start_vm:" + vm["name"], f"Start-VM: '{disk}' cannot be found.")
    with open(vm["disks"][0]) as f:
        parent = json.load(f).get("parent")
    if parent and not os.path.isfile(parent):
        return refuse(state, "start_vm:" + vm["name"], f"Start-VM: the parent disk '{parent}' cannot be found.")
    vm["state"] = "Running"
    vm["started_at"] = time.time()
    boot(state, vm)
    state.log("start_vm:" + vm["name"])
    out({"vm": vm["name"], "state": "Running"})
    return 0


def vm_address(state, inp, _script):
    vm = vm_named(state, inp["vm"])
    guest = guest_of(state, vm)
    addresses = []
    if vm["state"] == "Running" and guest is not None and guest.get("address_delay_s") is not None:
        if time.time() - vm["started_at"] >= guest["address_delay_s"]:
            addresses = [guest["addr"]]
    out({"vm": vm["name"], "state": vm["state"], "addresses": addresses})
    return 0


def copy_file(state, inp, _script):
    vm = vm_named(state, inp["vm"])
    what = "copy_file:" + vm["name"]
    if vm["state"] != "Running" or not vm.get("guest_service"):
        return refuse(state, what, f"Copy-VMFile: {IN_STATE} ({vm['state']}); it needs a running VM with the Guest Service Interface")
    if not os.path.isfile(inp["source"]):
        return refuse(state, what, f"Copy-VMFile: '{inp['source']}' cannot be found.")
    guest = guest_of(state, vm)
    if guest is None:
        return refuse(state, what, "Copy-VMFile: the guest does not answer")
    shutil.copyfile(inp["source"], inp["destination"])
    guest.setdefault("copied", []).append(inp["destination"])
    state.log(what)
    out({"vm": vm["name"], "destination": inp["destination"]})
    return 0


def remove_vm(state, inp, script):
    check_rights(state)
    found = [v for v in state.doc["vms"] if v["name"] == inp["vm"]]
    disks = []
    for vm in found:
        if vm["state"] != "Off":
            forced = all("-TurnOff" in l and "-Force" in l for l in stop_vm_lines(script))
            if not forced and vm.get("guest_hung"):
                state.log("stop-vm waiting on a hung guest")
                while True:
                    time.sleep(3600)
            power_off(state, vm)
            state.log("turn_off:" + vm["name"])
        disks += vm.get("disks", [])
        state.doc["vms"].remove(vm)
        # Remove-VM leaves the disk files.
        state.log("remove_vm:" + vm["name"])
    out({"vm": inp["vm"], "removed": bool(found), "disks": disks})
    return 0


OPERATIONS = {
    "os_facts": os_facts,
    "hyperv_inspect": inspect,
    "hyperv_apply": apply,
    "remove_files": remove_files,
    "deploy_agent": deploy_agent,
    "hyperv_host": hyperv_host,
    "hyperv_create_vm": create_vm,
    "hyperv_start_vm": start_vm,
    "hyperv_vm_address": vm_address,
    "hyperv_copy_file": copy_file,
    "hyperv_remove_vm": remove_vm,
}


def disassemble(script):
    lines = script.split("\n")
    if not lines[0].startswith("# nestbench-op: "):
        return None, None
    name = lines[0][len("# nestbench-op: "):].strip()
    m = re.search(r"\$NbInput = @'\n(.*?)\n'@", script, re.S)
    return name, (json.loads(m.group(1)) if m else None)


def powershell(state, argv):
    """`powershell FLAGS (-EncodedCommand B64 | -File PATH)`."""
    flags = argv[1:5]
    if flags != REQUIRED_FLAGS:
        sys.stderr.write(f"simulator: expected {' '.join(REQUIRED_FLAGS)}, got {flags}\n")
        return 1
    rest = argv[5:]
    if len(rest) == 2 and rest[0] == "-EncodedCommand":
        raw = base64.b64decode(rest[1], validate=True)
        script = raw.decode("utf-16-le")
    elif len(rest) == 2 and rest[0] == "-File":
        with open(rest[1], encoding="utf-8-sig") as f:
            script = f.read()
        if "Remove-Item -LiteralPath $PSCommandPath" not in script:
            sys.stderr.write("simulator: a -File script must delete itself\n")
            return 1
        os.remove(rest[1])
    else:
        sys.stderr.write(f"simulator: cannot run {rest}\n")
        return 1
    for rule in ("$ProgressPreference = 'SilentlyContinue'", "$ErrorActionPreference = 'Stop'", "exit $LASTEXITCODE"):
        if rule not in script:
            sys.stderr.write(f"simulator: the script lacks {rule}\n")
            return 1
    name, inp = disassemble(script)
    if name not in OPERATIONS or inp is None:
        out({"error": f"the simulator does not know operation {name!r}", "kind": "failed"})
        return 1
    state.doc.setdefault("ops", []).append(name + (" (file)" if rest[0] == "-File" else " (inline)"))
    state.save()
    return OPERATIONS[name](state, inp, script)


def main():
    command = os.environ.get("SSH_ORIGINAL_COMMAND", "")
    if command.startswith(SFTP_SERVER) or command == "internal-sftp":
        os.execv(SFTP_SERVER, [SFTP_SERVER])
    state = State(sys.argv[1])
    shell = state.doc["host"].get("shell", "cmd")
    if shell == "cmd" and len(command) > CMD_LINE_MAX:
        sys.stderr.write("The command line is too long.\n")
        return 1
    if command == PROBE:
        if shell == "cmd":
            print("nbprobe Windows_NT $env:OS; uname -sr")
            return 0
        print("nbprobe\n%OS%\nWindows_NT")
        sys.stderr.write("uname : The term 'uname' is not recognized as the name of a cmdlet\n")
        return 1
    argv = shlex.split(command)
    if argv and argv[0] == "powershell":
        return powershell(state, argv)
    sys.stderr.write(f"'{argv[0] if argv else ''}' is not recognized as an internal or external command,\n")
    return 1


if __name__ == "__main__":
    sys.exit(main())
