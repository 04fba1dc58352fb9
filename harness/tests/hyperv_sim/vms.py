"""The Hyper-V simulator's VM operations for `run --backend hyperv` (simulator.py says
what is enforced): create, start, address, copy into a guest, remove, file removal,
and the guest stand-ins (a real sshd per started VM, in its guest's namespace, with the
keys from its config disk). A simulator, never Hyper-V."""

import fnmatch
import json
import os
import re
import shutil
import subprocess
import time
import uuid

from simcore import (IN_STATE, IN_USE, SFTP_SERVER, State, attached, check_rights, guest_of,
                     kill_tree, out, refuse, stop_vm_lines, vm_named)

SIMULATOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "simulator.py")


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
                d = guest["dir"]
                left = [os.path.join(d, f) for f in os.listdir(d) if f.startswith("nestbench-")] if os.path.isdir(d) else []
                for c in guest.get("copied", []) + left:
                    if os.path.exists(c):
                        os.remove(c)
    state.save()
    out({"removed": removed})
    return 0


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


# Hyper-V's integration services: the last part of each one's Id, which is the same in
# every language, and its Name as an English host shows it. Names are translated: a host
# sets "integration_service_names" ({GUID: Name}) to stand in for another language.
GSI = "6C09BB55-D683-4DA0-8931-C9BF705F6480"
SERVICES = {
    "84EAAE65-2F2E-45F5-9BB5-0E857DC8EB47": "Heartbeat",
    "A9A0F4E7-5A45-4D96-B827-8A841E8C03E6": "Key-Value Pair Exchange",
    "9F8233AC-BE49-4C79-8EE3-E7E1985B2077": "Shutdown",
    "2497F4DE-E9FA-4204-80E4-4B75C46419C0": "Time Synchronization",
    "5CED1297-4598-4915-A5FC-AD21BB4D02A4": "VSS",
    GSI: "Guest Service Interface",
}


def services_of(state, vm):
    """Get-VMIntegrationService -VM: Id 'Microsoft:<VMId>\\<GUID>' and Name, per service."""
    names = dict(SERVICES, **state.doc["host"].get("integration_service_names", {}))
    return [{"guid": g, "Id": f"Microsoft:{vm['id']}\\{g}", "Name": n} for g, n in names.items()]


def ps_match(op, pattern, value):
    """PowerShell's -like (wildcards) or -eq on strings: both case-insensitive."""
    if op == "-like":
        return fnmatch.fnmatchcase(value.lower(), pattern.lower())
    return value.lower() == pattern.lower()


def enable_services(state, vm, script):
    """The script's Enable-VMIntegrationService, as Hyper-V runs it: by -Name (refused
    when no service has that Name in this host's language), or on the objects of a
    `Get-VMIntegrationService | Where-Object { $_.Id|Name -like|-eq '...' }`, which
    must select exactly one (the script's own check). Sets vm["guest_service"]; returns
    the error, or None."""
    lines = [l for l in script.splitlines() if not l.lstrip().startswith("#")]
    services, chosen = services_of(state, vm), []
    for l in lines:
        m = re.search(r"\bEnable-VMIntegrationService\b.*-Name\s+'([^']*)'", l)
        if m:
            found = [s for s in services if ps_match("-like", m.group(1), s["Name"])]
            if not found:
                return f"Enable-VMIntegrationService: no integration service named '{m.group(1)}' on VM '{vm['name']}'"
            chosen += found
        m = re.search(r"Get-VMIntegrationService\b.*\$_\.(Id|Name)\s+(-like|-eq)\s+'([^']*)'", l)
        if m:
            found = [s for s in services if ps_match(m.group(2), m.group(3), s[m.group(1)])]
            if len(found) != 1:
                return f"VM '{vm['name']}': {len(found)} integration services match {m.group(3)!r}, not 1"
            if any(re.search(r"\|\s*Enable-VMIntegrationService\b", x) for x in lines):
                chosen += found
    vm["guest_service"] = any(s["guid"] == GSI for s in chosen)
    return None


def create_vm(state, inp, script):
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
        "guest_service": False, "linux": bool(inp.get("linux")), "id": str(uuid.uuid4()).upper(),
    })
    # New-VM made the VM: a refusal from here on leaves it for teardown to remove.
    why = enable_services(state, state.doc["vms"][-1], script)
    if why:
        return refuse(state, "create_vm:" + name, why)
    state.log("create_vm:" + name)
    out({"vm": name, "version": state.doc["host"]["max_config_version"], "disk": inp["disk"], "config_disk": inp["config_disk"]})
    return 0


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
        conf += f"ForceCommand /usr/bin/python3 {SIMULATOR} {guest['state']}\n"
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
