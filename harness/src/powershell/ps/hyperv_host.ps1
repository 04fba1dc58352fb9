# What `run --backend hyperv` needs of a machine that will host a level (the Hyper-V
# host, or a guest with the Hyper-V role): Hyper-V's version, the processors and free
# memory the planner divides, and the newest VM configuration version it supports.
# Input: {}. Output: {computer, hyperv_version, logical_processors, memory_free_bytes,
# max_config_version}.
$vmhost = Get-VMHost
$vmms = Get-Item -LiteralPath (Join-Path $env:SystemRoot 'System32\vmms.exe')
$os = Get-CimInstance -ClassName Win32_OperatingSystem
# Hosts older than Windows 10 1709 / Server 2019 have no Get-VMHostSupportedVersion.
$max = $null
try {
    $max = [string](Get-VMHostSupportedVersion | Sort-Object -Property Version | Select-Object -Last 1).Version
} catch {
    $max = $null
}
$facts = [ordered]@{
    computer = [string]$env:COMPUTERNAME
    hyperv_version = [string]$vmms.VersionInfo.ProductVersion
    logical_processors = [int]$vmhost.LogicalProcessorCount
    memory_free_bytes = [long]$os.FreePhysicalMemory * 1024
    max_config_version = [string]$max
}
[Console]::Out.WriteLine(($facts | ConvertTo-Json -Compress))
exit 0
