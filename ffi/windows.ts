/**
 * Windows' kernel32, bcryptprimitives and bcrypt, declared once in neutral
 * types for x64 (LLP64: `BOOL` and `DWORD` are 32-bit, `SIZE_T` and
 * handles are pointer-sized). Every runtime adapter binds these same tables.
 *
 * @module
 */

import type { SymbolTable } from "./types.ts";

/** Where kernel32 lives: Windows resolves the bare name from System32. */
export const WINDOWS_KERNEL32_CANDIDATES: readonly string[] = ["kernel32.dll"];

/** The kernel32 functions secmem calls on Windows. */
export const WINDOWS_KERNEL32 = {
  // LPVOID VirtualAlloc(LPVOID lpAddress, SIZE_T dwSize, DWORD flAllocationType, DWORD flProtect)
  VirtualAlloc: {
    parameters: ["pointer", "usize", "u32", "u32"],
    result: "pointer",
  },
  // BOOL VirtualProtect(LPVOID lpAddress, SIZE_T dwSize, DWORD flNewProtect, PDWORD lpflOldProtect)
  VirtualProtect: {
    parameters: ["pointer", "usize", "u32", "buffer"],
    result: "i32",
  },
  // BOOL VirtualLock(LPVOID lpAddress, SIZE_T dwSize)
  VirtualLock: { parameters: ["pointer", "usize"], result: "i32" },
  // BOOL VirtualUnlock(LPVOID lpAddress, SIZE_T dwSize)
  VirtualUnlock: { parameters: ["pointer", "usize"], result: "i32" },
  // BOOL VirtualFree(LPVOID lpAddress, SIZE_T dwSize, DWORD dwFreeType)
  VirtualFree: { parameters: ["pointer", "usize", "u32"], result: "i32" },
  // DWORD GetLastError(void)
  GetLastError: { parameters: [], result: "u32" },
  // void GetSystemInfo(LPSYSTEM_INFO lpSystemInfo)
  GetSystemInfo: { parameters: ["buffer"], result: "void" },
  // HANDLE GetCurrentProcess(void)  (a pseudo-handle; never closed)
  GetCurrentProcess: { parameters: [], result: "pointer" },
  // BOOL GetProcessWorkingSetSize(HANDLE hProcess, PSIZE_T lpMinimumWorkingSetSize, PSIZE_T lpMaximumWorkingSetSize)
  GetProcessWorkingSetSize: {
    parameters: ["pointer", "buffer", "buffer"],
    result: "i32",
  },
  // BOOL SetProcessWorkingSetSize(HANDLE hProcess, SIZE_T dwMinimumWorkingSetSize, SIZE_T dwMaximumWorkingSetSize)
  SetProcessWorkingSetSize: {
    parameters: ["pointer", "usize", "usize"],
    result: "i32",
  },
  // void RtlZeroMemory(void *Destination, SIZE_T Length)  (x64 kernel32 forwards it to ntdll)
  RtlZeroMemory: { parameters: ["pointer", "usize"], result: "void" },
  // void RtlMoveMemory(void *Destination, const void *Source, SIZE_T Length)
  RtlMoveMemory: {
    parameters: ["pointer", "pointer", "usize"],
    result: "void",
  },
  // HANDLE CreateFileW(LPCWSTR lpFileName, DWORD dwDesiredAccess, DWORD dwShareMode,
  //   LPSECURITY_ATTRIBUTES lpSecurityAttributes, DWORD dwCreationDisposition,
  //   DWORD dwFlagsAndAttributes, HANDLE hTemplateFile)
  CreateFileW: {
    parameters: ["buffer", "u32", "u32", "pointer", "u32", "u32", "pointer"],
    result: "pointer",
  },
  // BOOL ReadFile(HANDLE hFile, LPVOID lpBuffer, DWORD nNumberOfBytesToRead,
  //   LPDWORD lpNumberOfBytesRead, LPOVERLAPPED lpOverlapped)
  ReadFile: {
    parameters: ["pointer", "pointer", "u32", "buffer", "pointer"],
    result: "i32",
  },
  // BOOL WriteFile(HANDLE hFile, LPCVOID lpBuffer, DWORD nNumberOfBytesToWrite,
  //   LPDWORD lpNumberOfBytesWritten, LPOVERLAPPED lpOverlapped)
  WriteFile: {
    parameters: ["pointer", "pointer", "u32", "buffer", "pointer"],
    result: "i32",
  },
  // BOOL SetFilePointerEx(HANDLE hFile, LARGE_INTEGER liDistanceToMove,
  //   PLARGE_INTEGER lpNewFilePointer, DWORD dwMoveMethod)
  SetFilePointerEx: {
    parameters: ["pointer", "i64", "pointer", "u32"],
    result: "i32",
  },
  // HANDLE GetStdHandle(DWORD nStdHandle)
  GetStdHandle: { parameters: ["u32"], result: "pointer" },
  // BOOL CloseHandle(HANDLE hObject)
  CloseHandle: { parameters: ["pointer"], result: "i32" },
  // The list of open ranges every copy of secmem reads.
  // HANDLE CreateFileMappingW(HANDLE hFile, LPSECURITY_ATTRIBUTES lpAttributes,
  //   DWORD flProtect, DWORD dwMaximumSizeHigh, DWORD dwMaximumSizeLow,
  //   LPCWSTR lpName)
  CreateFileMappingW: {
    parameters: ["pointer", "pointer", "u32", "u32", "u32", "buffer"],
    result: "pointer",
  },
  // LPVOID MapViewOfFile(HANDLE hFileMappingObject, DWORD dwDesiredAccess,
  //   DWORD dwFileOffsetHigh, DWORD dwFileOffsetLow, SIZE_T dwNumberOfBytesToMap)
  MapViewOfFile: {
    parameters: ["pointer", "u32", "u32", "u32", "usize"],
    result: "pointer",
  },
  // DWORD GetCurrentProcessId(void)
  GetCurrentProcessId: { parameters: [], result: "u32" },
  // DWORD GetCurrentThreadId(void)
  GetCurrentThreadId: { parameters: [], result: "u32" },
  // HANDLE GetCurrentThread(void): a pseudo-handle, never closed
  GetCurrentThread: { parameters: [], result: "pointer" },
  // BOOL GetThreadTimes(HANDLE hThread, LPFILETIME lpCreationTime,
  //   LPFILETIME lpExitTime, LPFILETIME lpKernelTime, LPFILETIME lpUserTime)
  GetThreadTimes: {
    parameters: ["pointer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  // Process hardening.
  // UINT GetErrorMode(void)  (Vista and later; also Wine)
  GetErrorMode: { parameters: [], result: "u32" },
  // UINT SetErrorMode(UINT uMode): returns the previous mode
  SetErrorMode: { parameters: ["u32"], result: "u32" },
} as const satisfies SymbolTable;

/** Where `ProcessPrng` lives (Windows 10 and later). */
export const WINDOWS_PRNG_CANDIDATES: readonly string[] = [
  "bcryptprimitives.dll",
];

/**
 * The generator that Windows' own runtimes call: per-processor state seeded
 * by the kernel, no handle, no failure path (it always returns TRUE).
 */
export const WINDOWS_PRNG = {
  // BOOL ProcessPrng(PBYTE pbData, SIZE_T cbData)
  ProcessPrng: { parameters: ["pointer", "usize"], result: "i32" },
} as const satisfies SymbolTable;

/** Where `BCryptGenRandom` lives (Vista and later; also Wine). */
export const WINDOWS_BCRYPT_CANDIDATES: readonly string[] = ["bcrypt.dll"];

/** The documented generator, used where bcryptprimitives cannot be opened. */
export const WINDOWS_BCRYPT = {
  // NTSTATUS BCryptGenRandom(BCRYPT_ALG_HANDLE hAlgorithm, PUCHAR pbBuffer, ULONG cbBuffer, ULONG dwFlags)
  BCryptGenRandom: {
    parameters: ["pointer", "pointer", "u32", "u32"],
    result: "i32",
  },
} as const satisfies SymbolTable;

/** Windows constants from <winnt.h>, <winerror.h>, <fileapi.h>, <bcrypt.h>. */
export const WINDOWS = {
  MEM_COMMIT: 0x1000,
  MEM_RESERVE: 0x2000,
  MEM_DECOMMIT: 0x4000,
  MEM_RELEASE: 0x8000,
  PAGE_NOACCESS: 0x01,
  PAGE_READONLY: 0x02,
  PAGE_READWRITE: 0x04,
  /** `sizeof(SYSTEM_INFO)` on x64. */
  SYSTEM_INFO_SIZE: 48,
  /** Offset of `DWORD dwPageSize` in `SYSTEM_INFO`. */
  SYSTEM_INFO_PAGE_SIZE: 4,
  /** Offset of `DWORD dwAllocationGranularity` in `SYSTEM_INFO`. */
  SYSTEM_INFO_ALLOCATION_GRANULARITY: 40,
  GENERIC_READ: 0x8000_0000,
  FILE_SHARE_READ: 0x1,
  FILE_SHARE_WRITE: 0x2,
  FILE_SHARE_DELETE: 0x4,
  OPEN_EXISTING: 3,
  FILE_ATTRIBUTE_NORMAL: 0x80,
  FILE_BEGIN: 0,
  /** `INVALID_HANDLE_VALUE`, `(HANDLE)-1`, as an unsigned 64-bit value. */
  INVALID_HANDLE_VALUE: 0xffff_ffff_ffff_ffffn,
  /** `STD_INPUT_HANDLE`, `(DWORD)-10`. */
  STD_INPUT_HANDLE: 0xffff_fff6,
  /** `STD_OUTPUT_HANDLE`, `(DWORD)-11`. */
  STD_OUTPUT_HANDLE: 0xffff_fff5,
  /** `STD_ERROR_HANDLE`, `(DWORD)-12`. */
  STD_ERROR_HANDLE: 0xffff_fff4,
  BCRYPT_USE_SYSTEM_PREFERRED_RNG: 0x2,
  /** The largest count one `ReadFile`, `WriteFile` or `BCryptGenRandom` takes here. */
  MAX_DWORD_CHUNK: 0x4000_0000,
  ERROR_FILE_NOT_FOUND: 2,
  ERROR_PATH_NOT_FOUND: 3,
  ERROR_ACCESS_DENIED: 5,
  ERROR_INVALID_HANDLE: 6,
  ERROR_NOT_ENOUGH_MEMORY: 8,
  ERROR_OUTOFMEMORY: 14,
  ERROR_HANDLE_EOF: 38,
  ERROR_INVALID_PARAMETER: 87,
  ERROR_BROKEN_PIPE: 109,
  ERROR_INVALID_ADDRESS: 487,
  ERROR_NOACCESS: 998,
  ERROR_NO_SYSTEM_RESOURCES: 1450,
  ERROR_WORKING_SET_QUOTA: 1453,
  ERROR_COMMITMENT_LIMIT: 1455,
  /** Error mode: no Windows Error Reporting dialog on a crash. */
  SEM_NOGPFAULTERRORBOX: 0x0002,
} as const;
