/*
 * bcryptprimitives.dll with the one function Go >= 1.24 Windows binaries
 * import from it: ProcessPrng. Wine 8 ships no bcryptprimitives.dll, so
 * package wine (internal/wine) puts this shim in its prefix's system32. It fills
 * the buffer with RtlGenRandom (advapi32!SystemFunction036).
 *
 * x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll processprng.c processprng.def -ladvapi32
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
