# Remove what nestbench left at a Windows level (an agent, or a script cut off before
# it could delete itself); a file already gone is not an error.
# Input: {paths: [..]}. Output: {removed: [..]}.
$removed = @()
foreach ($path in @($NbInput.paths)) {
    if (Test-Path -LiteralPath $path) {
        Remove-Item -LiteralPath $path -Force
        $removed += [string]$path
    }
}
[Console]::Out.WriteLine((@{ removed = $removed } | ConvertTo-Json -Compress))
exit 0
