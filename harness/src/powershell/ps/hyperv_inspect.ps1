# Everything `nestbench hyperv prepare` judges, read in one round trip and changing
# nothing: the host (Windows build, CPU vendor, the configuration versions it
# supports, the caller's rights) and the VM (state, configuration version, processor,
# memory, network adapters, checkpoints), plus the guest's OS name from the
# integration services when it runs (the Hyper-V role inside a guest cannot be asked
# without the guest's own credentials).
# Input: {vm}. Output: {host: {..}, vm: {..}}, or {error, kind} with kind one of
# no_hyperv, access_denied, vm_not_found, ambiguous.
function Write-Failure([string]$Kind, [string]$Message) {
    [Console]::Out.WriteLine((@{ error = $Message; kind = $Kind } | ConvertTo-Json -Compress))
    exit 1
}
$name = [string]$NbInput.vm
$os = Get-CimInstance -ClassName Win32_OperatingSystem
$cpu = @(Get-CimInstance -ClassName Win32_Processor)[0]
$principal = New-Object -TypeName Security.Principal.WindowsPrincipal -ArgumentList ([Security.Principal.WindowsIdentity]::GetCurrent())
$admin = $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
$hvAdmin = $principal.IsInRole([Security.Principal.SecurityIdentifier]'S-1-5-32-578')
if (-not (Get-Command -Name Get-VM -ErrorAction SilentlyContinue)) {
    Write-Failure 'no_hyperv' "the Hyper-V PowerShell module is not installed on $env:COMPUTERNAME"
}
if (-not ($admin -or $hvAdmin)) {
    Write-Failure 'access_denied' "$env:USERNAME is neither an administrator of $env:COMPUTERNAME nor in its Hyper-V Administrators group"
}
$found = @(Get-VM | Where-Object { $_.Name -eq $name })
if ($found.Count -eq 0) {
    Write-Failure 'vm_not_found' "no VM named '$name' on $env:COMPUTERNAME"
}
if ($found.Count -gt 1) {
    Write-Failure 'ambiguous' "$($found.Count) VMs are named '$name' on $env:COMPUTERNAME: rename all but one"
}
$vm = $found[0]
$maxVersion = $null
try {
    $maxVersion = [string](Get-VMHostSupportedVersion | Sort-Object -Property Version | Select-Object -Last 1).Version
} catch {
    $maxVersion = $null
}
$proc = Get-VMProcessor -VM $vm
$mem = Get-VMMemory -VM $vm
$adapters = @(Get-VMNetworkAdapter -VM $vm | ForEach-Object {
        [ordered]@{
            name         = [string]$_.Name
            mac_spoofing = [string]$_.MacAddressSpoofing
            switch       = [string]$_.SwitchName
        }
    })
$auto = $null
if ($vm.PSObject.Properties.Name -contains 'AutomaticCheckpointsEnabled') {
    $auto = [bool]$vm.AutomaticCheckpointsEnabled
}
$guestOs = $null
if ([string]$vm.State -eq 'Running') {
    try {
        $system = Get-CimInstance -Namespace 'root\virtualization\v2' -ClassName Msvm_ComputerSystem -Filter "Name='$($vm.Id.Guid)'"
        $kvp = Get-CimAssociatedInstance -InputObject $system -ResultClassName Msvm_KvpExchangeComponent
        foreach ($item in @($kvp.GuestIntrinsicExchangeItems)) {
            $props = ([xml]$item).INSTANCE.PROPERTY
            $key = ($props | Where-Object { $_.NAME -eq 'Name' }).VALUE
            if ($key -eq 'OSName') {
                $guestOs = [string]($props | Where-Object { $_.NAME -eq 'Data' }).VALUE
            }
        }
    } catch {
        $guestOs = $null
    }
}
$doc = [ordered]@{
    host = [ordered]@{
        computer           = [string]$env:COMPUTERNAME
        caption            = [string]$os.Caption
        build              = [int]$os.BuildNumber
        cpu_vendor         = [string]$cpu.Manufacturer
        cpu_name           = [string]$cpu.Name
        max_config_version = $maxVersion
    }
    vm   = [ordered]@{
        name                             = [string]$vm.Name
        state                            = [string]$vm.State
        version                          = [string]$vm.Version
        expose_virtualization_extensions = [bool]$proc.ExposeVirtualizationExtensions
        processor_count                  = [int]$proc.Count
        dynamic_memory                   = [bool]$mem.DynamicMemoryEnabled
        startup_bytes                    = [long]$mem.Startup
        checkpoint_type                  = [string]$vm.CheckpointType
        automatic_checkpoints            = $auto
        adapters                         = $adapters
        guest_os                         = $guestOs
    }
}
[Console]::Out.WriteLine(($doc | ConvertTo-Json -Compress -Depth 5))
exit 0
