# Start a level created by hyperv_create_vm (after its nesting settings: Hyper-V
# refuses those while the VM runs).
# Input: {vm}. Output: {vm, state}.
$name = [string]$NbInput.vm
$vm = Get-VM -Name $name
Start-VM -VM $vm
[Console]::Out.WriteLine(([ordered]@{ vm = $name; state = [string](Get-VM -Name $name).State } | ConvertTo-Json -Compress))
exit 0
