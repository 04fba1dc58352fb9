# nestbench's first-boot task for a Windows base VHDX (docs/hyperv.md, "What the base
# VHDX must contain"). Registered in the image as a scheduled task that runs at startup
# as SYSTEM, it installs the stack's keys from the config disk `run --backend hyperv`
# attaches to each VM (a FAT32 volume labelled cidata, written by hyperv_create_vm) and
# restarts sshd; a VM without that disk is left as it is. It runs inside the guest,
# never sent by the controller, so it is not an operation of scripts.rs; the grammar
# test parses it all the same.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$volume = Get-Volume | Where-Object { $_.FileSystemLabel -eq 'cidata' -and $_.DriveLetter } | Select-Object -First 1
if (-not $volume) {
    exit 0
}
$from = Join-Path "$($volume.DriveLetter):\" 'nestbench'
$ssh = Join-Path $env:ProgramData 'ssh'
New-Item -ItemType Directory -Force -Path $ssh | Out-Null
Stop-Service sshd -ErrorAction SilentlyContinue
$copies = [ordered]@{
    'ssh_host_ed25519_key' = 'ssh_host_ed25519_key'
    'ssh_host_ed25519_key.pub' = 'ssh_host_ed25519_key.pub'
    'authorized_keys' = 'administrators_authorized_keys'
}
foreach ($name in $copies.Keys) {
    Copy-Item -LiteralPath (Join-Path $from $name) -Destination (Join-Path $ssh $copies[$name]) -Force
}
# sshd refuses a host key or an administrators' key file that others may read.
foreach ($f in 'ssh_host_ed25519_key', 'administrators_authorized_keys') {
    icacls (Join-Path $ssh $f) /inheritance:r /grant 'SYSTEM:F' /grant 'Administrators:F' | Out-Null
}
Set-Service sshd -StartupType Automatic
Start-Service sshd
exit 0
