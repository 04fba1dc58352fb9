# Copy a file of this machine into a running level (its child's base VHDX) through the
# Guest Service Interface: no share, no network path, no credentials of the guest.
# Input: {vm, source, destination}. Output: {vm, destination}.
$name = [string]$NbInput.vm
$vm = Get-VM -Name $name
Copy-VMFile -VM $vm -SourcePath ([string]$NbInput.source) -DestinationPath ([string]$NbInput.destination) -FileSource Host -CreateFullPath -Force
[Console]::Out.WriteLine(([ordered]@{ vm = $name; destination = [string]$NbInput.destination } | ConvertTo-Json -Compress))
exit 0
