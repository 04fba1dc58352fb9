# The changes `nestbench hyperv prepare --apply` decided, in the order given: the
# controller puts turning the VM off (never a Stop-VM that waits on the guest: always
# -TurnOff -Force) or discarding its saved state first, then what Hyper-V refuses
# while a VM runs. Stops at the first step that fails.
# Input: {vm, steps: [{op, count?, bytes?}]}. Output: {done: [ops], failed?: {step, error}}.
$name = [string]$NbInput.vm
$found = @(Get-VM | Where-Object { $_.Name -eq $name })
if ($found.Count -ne 1) {
    [Console]::Out.WriteLine((@{ error = "no single VM named '$name' on $env:COMPUTERNAME"; kind = 'vm_not_found' } | ConvertTo-Json -Compress))
    exit 1
}
$vm = $found[0]
$done = @()
foreach ($step in @($NbInput.steps)) {
    try {
        switch ([string]$step.op) {
            'turn_off' { Stop-VM -VM $vm -TurnOff -Force }
            'discard_saved_state' { Remove-VMSavedState -VM $vm }
            'update_version' { Update-VMVersion -VM $vm -Force }
            'expose_virtualization_extensions' { Set-VMProcessor -VM $vm -ExposeVirtualizationExtensions $true }
            'processor_count' { Set-VMProcessor -VM $vm -Count ([int]$step.count) }
            'dynamic_memory_off' { Set-VMMemory -VM $vm -DynamicMemoryEnabled $false }
            'startup_memory' { Set-VMMemory -VM $vm -StartupBytes ([long]$step.bytes) }
            'mac_spoofing_on' {
                Get-VMNetworkAdapter -VM $vm | Where-Object { [string]$_.MacAddressSpoofing -ne 'On' } | Set-VMNetworkAdapter -MacAddressSpoofing On
            }
            'checkpoints_off' { Set-VM -VM $vm -CheckpointType Disabled }
            'automatic_checkpoints_off' { Set-VM -VM $vm -AutomaticCheckpointsEnabled $false }
            default { throw "unknown step '$($step.op)'" }
        }
        $done += [string]$step.op
    } catch {
        $failed = [ordered]@{ step = [string]$step.op; error = $_.Exception.Message }
        [Console]::Out.WriteLine(([ordered]@{ done = $done; failed = $failed } | ConvertTo-Json -Compress -Depth 4))
        exit 1
    }
}
[Console]::Out.WriteLine(([ordered]@{ done = $done } | ConvertTo-Json -Compress -Depth 4))
exit 0
