# Create one level of the stack, left Off: a differencing disk on the parent VHDX (so
# the parent is only ever read), the config disk (a FAT32 volume labelled cidata with
# the stack's keys, which the guest's first-boot task installs), and a Generation 2 VM
# on both, with the Guest Service Interface that Copy-VMFile needs. The nesting
# settings come next, from hyperv_apply, while the VM is still Off.
# Input: {vm, parent, disk, config_disk, switch, memory_bytes, linux, files: {NAME: TEXT}}.
# Output: {vm, version, disk, config_disk}.
$name = [string]$NbInput.vm
if (@(Get-VM | Where-Object { $_.Name -eq $name }).Count -ne 0) {
    [Console]::Out.WriteLine((@{ error = "a VM named '$name' already exists"; kind = 'exists' } | ConvertTo-Json -Compress))
    exit 1
}
New-VHD -Path $NbInput.disk -ParentPath $NbInput.parent -Differencing | Out-Null
New-VHD -Path $NbInput.config_disk -SizeBytes 64MB -Dynamic | Out-Null
$mounted = Mount-VHD -Path $NbInput.config_disk -Passthru
try {
    $number = ($mounted | Get-Disk).Number
    Initialize-Disk -Number $number -PartitionStyle MBR
    $part = New-Partition -DiskNumber $number -UseMaximumSize -AssignDriveLetter
    Format-Volume -Partition $part -FileSystem FAT32 -NewFileSystemLabel 'cidata' -Confirm:$false | Out-Null
    $letter = (Get-Partition -DiskNumber $number -PartitionNumber $part.PartitionNumber).DriveLetter
    foreach ($f in $NbInput.files.PSObject.Properties) {
        $path = Join-Path "${letter}:\" $f.Name
        New-Item -ItemType Directory -Force -Path (Split-Path -Parent $path) | Out-Null
        [IO.File]::WriteAllText($path, [string]$f.Value)
    }
} finally {
    Dismount-VHD -Path $NbInput.config_disk
}
$vm = New-VM -Name $name -Generation 2 -VHDPath $NbInput.disk -MemoryStartupBytes ([long]$NbInput.memory_bytes) -SwitchName $NbInput.switch
Add-VMHardDiskDrive -VM $vm -Path $NbInput.config_disk
# The Guest Service Interface by its Id ('Microsoft:<VMId>\<GUID>'), the same in every
# language: its Name is translated, so 'Guest Service Interface' exists only in English.
$gsi = @(Get-VMIntegrationService -VM $vm | Where-Object { $_.Id -like '*\6C09BB55-D683-4DA0-8931-C9BF705F6480' })
if ($gsi.Count -ne 1) {
    throw "VM '$name': $($gsi.Count) integration services have the Guest Service Interface's Id (*\6C09BB55-D683-4DA0-8931-C9BF705F6480), not 1 (Copy-VMFile needs it): see Get-VMIntegrationService -VMName '$name' | Format-List Name,Id"
}
$gsi | Enable-VMIntegrationService
if ($NbInput.linux) {
    Set-VMFirmware -VM $vm -SecureBootTemplate 'MicrosoftUEFICertificateAuthority'
}
$made = [ordered]@{ vm = $name; version = [string]$vm.Version; disk = [string]$NbInput.disk; config_disk = [string]$NbInput.config_disk }
[Console]::Out.WriteLine(($made | ConvertTo-Json -Compress))
exit 0
