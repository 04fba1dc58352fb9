# The Windows side of deploying the agent, in one round trip as on Linux: unpack the
# uploaded gzip stream, print "size sha256" of what was unpacked (Get-FileHash), and
# only when both match what was sent run the suite, whose protocol stream (its begin
# record carries the level's info) passes through line by line. The agent and its
# upload are removed whatever happens, and the script exits with the agent's status
# (1 when it did not run).
# Input: {packed, exe, size, sha256, run: [arguments of the suite run]}.
# Output: "size sha256", then the protocol stream.
$packed = [string]$NbInput.packed
$exe = [string]$NbInput.exe
$code = 1
try {
    $source = [System.IO.File]::OpenRead($packed)
    try {
        $target = [System.IO.File]::Create($exe)
        try {
            $mode = [System.IO.Compression.CompressionMode]::Decompress
            $gzip = New-Object -TypeName System.IO.Compression.GZipStream -ArgumentList $source, $mode
            $gzip.CopyTo($target)
            $gzip.Dispose()
        } finally {
            $target.Dispose()
        }
    } finally {
        $source.Dispose()
    }
    Remove-Item -LiteralPath $packed -Force
    $size = (Get-Item -LiteralPath $exe).Length
    $hash = (Get-FileHash -LiteralPath $exe -Algorithm SHA256).Hash.ToLowerInvariant()
    [Console]::Out.WriteLine("$size $hash")
    if ($size -eq [long]$NbInput.size -and $hash -eq [string]$NbInput.sha256) {
        # What the agent writes on stderr must not become a terminating error.
        $ErrorActionPreference = 'Continue'
        $suite = @($NbInput.run)
        & $exe @suite
        $code = $LASTEXITCODE
    }
} finally {
    Remove-Item -LiteralPath $packed, $exe -Force -ErrorAction SilentlyContinue
}
exit $code
