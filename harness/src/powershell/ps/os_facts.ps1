# What kind of Windows machine answered: caption and build, where temporary files go
# (the default workdir), and whether it is a Hyper-V host — then its own OS is the
# root partition, scheduled by the hypervisor beneath it, and not bare metal.
# Input: {}. Output: {caption, build, version, arch, temp, hypervisor, hyperv_host}.
$os = Get-CimInstance -ClassName Win32_OperatingSystem
$cs = Get-CimInstance -ClassName Win32_ComputerSystem
$vmms = Get-Service -Name vmms -ErrorAction SilentlyContinue
$facts = [ordered]@{
    caption     = [string]$os.Caption
    build       = [int]$os.BuildNumber
    version     = [string]$os.Version
    arch        = [string]$env:PROCESSOR_ARCHITECTURE
    temp        = [System.IO.Path]::GetTempPath().TrimEnd('\')
    hypervisor  = [bool]$cs.HypervisorPresent
    hyperv_host = ($null -ne $vmms)
}
[Console]::Out.WriteLine(($facts | ConvertTo-Json -Compress))
exit 0
