/*
 * TEST-ONLY stand-in for Windows' bcryptprimitives.dll, for running nestbench-agent.exe
 * under Wine 8.0, which lacks that DLL. Rust's std takes its random numbers from
 * ProcessPrng there (Windows 10 and later have it); an agent that ever asks std for
 * randomness (a HashMap's RandomState) would then not start under Wine 8.
 *
 * agent/tests/wine.rs builds this with MinGW and puts it beside the .exe in the test's
 * own temporary directory only. It is never shipped: on Windows the real DLL is used.
 *
 * ProcessPrng fills the buffer from RtlGenRandom (advapi32's SystemFunction036), which
 * Wine implements; it takes a ULONG length, so large requests go in pieces.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, n))
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
