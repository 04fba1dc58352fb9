# A running level's addresses as the integration services report them (KVP exchange):
# empty until the guest's network is up, so the controller polls this with a timeout.
# Input: {vm}. Output: {vm, state, addresses: [IPv4 first]}.
$name = [string]$NbInput.vm
$vm = Get-VM -Name $name
$all = @(Get-VMNetworkAdapter -VM $vm | ForEach-Object { $_.IPAddresses } | Where-Object { $_ })
$v4 = @($all | Where-Object { $_ -match '^\d+\.\d+\.\d+\.\d+$' -and $_ -notmatch '^169\.254\.' })
$v6 = @($all | Where-Object { $_ -notmatch '^\d+\.\d+\.\d+\.\d+$' -and $_ -notmatch '^fe80:' })
$found = [ordered]@{ vm = $name; state = [string]$vm.State; addresses = @($v4 + $v6) }
[Console]::Out.WriteLine(($found | ConvertTo-Json -Compress))
exit 0
