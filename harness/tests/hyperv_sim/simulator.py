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
  - Copy-VMFile needs a running VM with the Guest Service Interface enabled (New-VM
    leaves it off) and a source that exists;
  - integration services have a Name in the host's language (a state's host may set
    "integration_service_names" to translate them) and an Id,
    'Microsoft:<VMId>\\<GUID>', the same in every language: Enable-VMIntegrationService
    -Name refuses a Name this host does not have, a Where-Object on the Id or Name
    selects what it matches (vms.py, enable_services);
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
The VM operations live in vms.py, what both share in simcore.py.
"""

import base64
import json
import os
import re
import shlex
import sys
import time

from simcore import (CMD_LINE_MAX, IN_STATE, PROBE, REQUIRED_FLAGS, SFTP_SERVER, State,
                     check_rights, guest_of, kill_tree, out, stop_vm_lines, vm_named)
from vms import (copy_file, create_vm, hyperv_host, remove_files, remove_vm, start_vm,
                 vm_address)


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
            code = subprocess.run(run + inp["run"]).returncode
    finally:
        for p in (packed, exe):
            if os.path.exists(p):
                os.remove(p)
    return code


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
