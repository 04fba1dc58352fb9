# Remove a level: turned off at once (Stop-VM -TurnOff -Force: a plain Stop-VM asks the
# guest and can wait forever on a hung one), then Remove-VM, which leaves the VM's disk
# files: the controller removes the ones it made with remove_files afterwards. A VM
# already gone is not an error, so teardown can run again.
# Input: {vm}. Output: {vm, removed, disks: [paths that were attached]}.
$name = [string]$NbInput.vm
$found = @(Get-VM | Where-Object { $_.Name -eq $name })
$disks = @()
foreach ($vm in $found) {
    if ([string]$vm.State -ne 'Off') {
        Stop-VM -VM $vm -TurnOff -Force
    }
    $disks += @(Get-VMHardDiskDrive -VM $vm | ForEach-Object { [string]$_.Path })
    Remove-VM -VM $vm -Force
}
$gone = [ordered]@{ vm = $name; removed = ($found.Count -gt 0); disks = $disks }
[Console]::Out.WriteLine(($gone | ConvertTo-Json -Compress))
exit 0
