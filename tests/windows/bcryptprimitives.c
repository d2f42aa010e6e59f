/*
 * Test fixture, not part of secmem: a one-function bcryptprimitives.dll for
 * Wine 8, which lacks the library. Bun for Windows imports ProcessPrng from
 * it at start-up and exits at once (status 53) when it cannot be found.
 * ProcessPrng is answered from advapi32's SystemFunction036 (RtlGenRandom),
 * the system generator Wine does have. Build it beside bun.exe:
 *
 *   x86_64-w64-mingw32-gcc -O2 -s -shared -o bcryptprimitives.dll \
 *     bcryptprimitives.c -ladvapi32
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* BOOL ProcessPrng(PBYTE pbData, SIZE_T cbData): Windows documents that it
 * always returns TRUE; this one returns FALSE if RtlGenRandom fails. */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
  /* RtlGenRandom takes a ULONG count; feed it whole gigabytes at most. */
  while (length > 0) {
    ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
    if (!SystemFunction036(data, chunk)) return FALSE;
    data += chunk;
    length -= chunk;
  }
  return TRUE;
}
