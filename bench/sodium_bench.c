/*
 * The libsodium contestant of the secmem benchmark: the same workloads as
 * bench/secmem_bench.ts, over sodium_malloc, sodium_free, sodium_mprotect_*,
 * randombytes_buf and sodium_memcmp. Benchmark tooling only; bench/run.sh
 * compiles it into bench/out/ and it is never part of the package.
 *
 * Modes (the protocol every contestant speaks, see bench/README.md):
 *   sodium_bench time WORKLOAD:ITERATIONS ...  prints "WORKLOAD NS USER_NS
 *                                              SYS_NS THREAD_NS" per
 *                                              operation
 *   sodium_bench count WORKLOAD ITERATIONS     runs a fixed warm-up, then the
 *                                              iterations, prints nothing
 *                                              (strace counts the difference
 *                                              from ITERATIONS = 0)
 *   sodium_bench memory COUNT                  prints "ready", waits for a
 *                                              line, holds COUNT 32-byte
 *                                              secrets, prints "held", waits
 *                                              for a line, frees them
 *   sodium_bench steps N                       times each of secmem's calls
 *                                              for one buffer alone (C only)
 *   sodium_bench version                       prints libsodium's version
 */
#define _GNU_SOURCE
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* Warm-up iterations before the measured iterations of `count`, so that
 * both strace runs do the same; timed batches are warmed up by warm_up. */
#define WARMUP 200

/* Results of sodium_memcmp land here so the compiler keeps the calls. */
static volatile int sink;

static void die(const char *what) {
  fprintf(stderr, "sodium_bench: cannot %s\n", what);
  exit(1);
}

static void *must_malloc(size_t size) {
  void *p = sodium_malloc(size);
  if (p == NULL) die("sodium_malloc");
  return p;
}

static double cpu_ns(const struct timeval *tv) {
  return (double)tv->tv_sec * 1e9 + (double)tv->tv_usec * 1e3;
}

static double thread_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Buffers a workload keeps alive across its iterations. */
struct fixture {
  size_t live_count;
  void **live;
  unsigned char *a;
  unsigned char *b;
  size_t size;
};

static void alloc_free(size_t size, long n) {
  for (long i = 0; i < n; i++) sodium_free(must_malloc(size));
}

static void read_scope(struct fixture *f, long n) {
  for (long i = 0; i < n; i++) {
    if (sodium_mprotect_readonly(f->a) != 0) die("sodium_mprotect_readonly");
    if (sodium_mprotect_noaccess(f->a) != 0) die("sodium_mprotect_noaccess");
  }
}

static void random_fill(long n) {
  for (long i = 0; i < n; i++) {
    void *p = must_malloc(32);
    randombytes_buf(p, 32);
    sodium_free(p);
  }
}

static void compare(struct fixture *f, long n) {
  for (long i = 0; i < n; i++) sink += sodium_memcmp(f->a, f->b, f->size);
}

static void raw_getpid(long n) {
  for (long i = 0; i < n; i++) sink += getpid();
}

/* The C side of secmem's `ffi_ptr`: a libc call with a pointer, no syscall. */
static void pointer_call(struct fixture *f, long n) {
  for (long i = 0; i < n; i++) explicit_bzero(f->a, 0);
}

/*
 * secmem's own syscall sequence for one 32-byte buffer, written in C: the
 * kernel's share of secmem's alloc+destroy, with no FFI and no JavaScript.
 * Reserve guard+data+guard as PROT_NONE, map the data page over it locked
 * and writable, keep it out of dumps and forks, rest it noaccess; at
 * destroy open it, wipe it, unmap the whole reservation.
 */
static void secmem_floor(long n) {
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  for (long i = 0; i < n; i++) {
    unsigned char *base = mmap(NULL, 3 * page, PROT_NONE,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                               -1, 0);
    if (base == MAP_FAILED) die("mmap");
    unsigned char *data = base + page;
    if (mmap(data, page, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_LOCKED, -1,
             0) == MAP_FAILED)
      die("mmap fixed");
    if (madvise(data, page, MADV_DONTDUMP) != 0) die("madvise");
    if (madvise(data, page, MADV_WIPEONFORK) != 0) die("madvise");
    if (mprotect(data, page, PROT_NONE) != 0) die("mprotect");
    if (mprotect(data, page, PROT_READ | PROT_WRITE) != 0) die("mprotect");
    explicit_bzero(data, page);
    if (munmap(base, 3 * page) != 0) die("munmap");
  }
}

/* secmem's read scope in C: the data page of secmem's layout (locked,
 * between guard pages, at rest PROT_NONE) made readonly, then noaccess. */
static void secmem_toggle(long n) {
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  unsigned char *base = mmap(NULL, 3 * page, PROT_NONE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
                             0);
  if (base == MAP_FAILED) die("mmap");
  unsigned char *data = base + page;
  if (mmap(data, page, PROT_NONE,
           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_LOCKED, -1,
           0) == MAP_FAILED)
    die("mmap fixed");
  for (long i = 0; i < n; i++) {
    if (mprotect(data, page, PROT_READ) != 0) die("mprotect");
    if (mprotect(data, page, PROT_NONE) != 0) die("mprotect");
  }
  munmap(base, 3 * page);
}

/*
 * Each of secmem's calls for one 32-byte buffer timed on its own, from C:
 * where the kernel's share of an alloc+destroy goes. Prints one line per
 * step, "STEP NS" (STEP has no spaces), averaged over n rounds.
 */
static void secmem_steps(long n) {
  static const char *const names[] = {
      "mmap_reserve_3_pages",  "mmap_fixed_locked_data", "madvise_dontdump",
      "madvise_wipeonfork",    "mprotect_noaccess_rest", "mprotect_rw_open",
      "explicit_bzero_page",   "munmap_3_pages"};
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  double sum[8] = {0};
  for (long i = 0; i < n + WARMUP; i++) {
    double t[9];
    t[0] = now_ns();
    unsigned char *base = mmap(NULL, 3 * page, PROT_NONE,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                               -1, 0);
    if (base == MAP_FAILED) die("mmap");
    t[1] = now_ns();
    unsigned char *data = base + page;
    if (mmap(data, page, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_LOCKED, -1,
             0) == MAP_FAILED)
      die("mmap fixed");
    t[2] = now_ns();
    if (madvise(data, page, MADV_DONTDUMP) != 0) die("madvise");
    t[3] = now_ns();
    if (madvise(data, page, MADV_WIPEONFORK) != 0) die("madvise");
    t[4] = now_ns();
    if (mprotect(data, page, PROT_NONE) != 0) die("mprotect");
    t[5] = now_ns();
    if (mprotect(data, page, PROT_READ | PROT_WRITE) != 0) die("mprotect");
    t[6] = now_ns();
    explicit_bzero(data, page);
    t[7] = now_ns();
    if (munmap(base, 3 * page) != 0) die("munmap");
    t[8] = now_ns();
    if (i >= WARMUP)
      for (int k = 0; k < 8; k++) sum[k] += t[k + 1] - t[k];
  }
  for (int k = 0; k < 8; k++) printf("%s %.1f\n", names[k], sum[k] / (double)n);
}

/* Sets up what `w` keeps alive; the live counts hold extra 32 B secrets. */
static void setup(const char *w, struct fixture *f) {
  memset(f, 0, sizeof *f);
  if (strcmp(w, "read") == 0 || strcmp(w, "ffi_ptr") == 0) {
    f->a = must_malloc(32);
    if (sodium_mprotect_noaccess(f->a) != 0) die("sodium_mprotect_noaccess");
  } else if (strcmp(w, "eq32") == 0 || strcmp(w, "eq4k") == 0) {
    f->size = w[2] == '3' ? 32 : 4096;
    f->a = must_malloc(f->size);
    f->b = must_malloc(f->size);
    memset(f->a, 7, f->size);
    memset(f->b, 7, f->size);
  } else if (strncmp(w, "live", 4) == 0) {
    f->live_count = strcmp(w, "live1") == 0    ? 1
                    : strcmp(w, "live1k") == 0 ? 1000
                                               : 10000;
    f->live = calloc(f->live_count, sizeof *f->live);
    if (f->live == NULL) die("calloc");
    for (size_t i = 0; i < f->live_count; i++) f->live[i] = must_malloc(32);
  }
}

static void teardown(struct fixture *f) {
  if (f->a != NULL) sodium_free(f->a);
  if (f->b != NULL) sodium_free(f->b);
  for (size_t i = 0; i < f->live_count; i++) sodium_free(f->live[i]);
  free(f->live);
}

static void run(const char *w, struct fixture *f, long n) {
  if (strcmp(w, "alloc32") == 0) alloc_free(32, n);
  else if (strcmp(w, "alloc1k") == 0) alloc_free(1024, n);
  else if (strcmp(w, "alloc64k") == 0) alloc_free(65536, n);
  else if (strcmp(w, "read") == 0) read_scope(f, n);
  else if (strcmp(w, "toggle_raw") == 0) secmem_toggle(n);
  else if (strcmp(w, "random32") == 0) random_fill(n);
  else if (strcmp(w, "eq32") == 0 || strcmp(w, "eq4k") == 0) compare(f, n);
  else if (strncmp(w, "live", 4) == 0) alloc_free(32, n);
  else if (strcmp(w, "getpid") == 0) raw_getpid(n);
  else if (strcmp(w, "ffi_ptr") == 0) pointer_call(f, n);
  else if (strcmp(w, "floor32") == 0 || strcmp(w, "floor32_raw") == 0)
    secmem_floor(n);
}

static int workload_known(const char *w) {
  static const char *const names[] = {
      "alloc32", "alloc1k", "alloc64k", "read",    "random32", "eq32",
      "eq4k",    "live1",   "live1k",   "live10k", "getpid",   "floor32",
      "ffi_ptr", "floor32_raw", "toggle_raw"};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (strcmp(w, names[i]) == 0) return 1;
  return 0;
}

/* Warm-up before a timed batch, as the JavaScript contestants do: batches
 * of max(WARMUP, n / 10) until SECMEM_BENCH_WARMUP_MS milliseconds have
 * passed (at least one batch). */
static void warm_up(const char *w, struct fixture *f, long n) {
  const char *env = getenv("SECMEM_BENCH_WARMUP_MS");
  double ms = env != NULL ? strtod(env, NULL) : 0.0;
  long batch = n / 10 > WARMUP ? n / 10 : WARMUP;
  double until = now_ns() + (ms > 0 ? ms * 1e6 : 0.0);
  do {
    run(w, f, batch);
  } while (now_ns() < until);
}

static long parse_count(const char *s) {
  char *end;
  long n = strtol(s, &end, 10);
  if (*s == '\0' || *end != '\0' || n < 0) die("parse an iteration count");
  return n;
}

/* Blocks until the harness writes a line; it reads /proc/PID meanwhile. */
static void await_harness(void) {
  int c;
  while ((c = getchar()) != EOF && c != '\n') {
  }
}

/* Holds `count` 32-byte secrets while the harness measures the process
 * from outside (bench/_memory.ts), as every contestant does. */
static void memory(long count) {
  void **held = calloc((size_t)count, sizeof *held);
  if (held == NULL) die("calloc");
  printf("ready\n");
  fflush(stdout);
  await_harness();
  for (long i = 0; i < count; i++) held[i] = must_malloc(32);
  printf("held\n");
  fflush(stdout);
  await_harness();
  for (long i = 0; i < count; i++) sodium_free(held[i]);
  free(held);
}

int main(int argc, char **argv) {
  if (sodium_init() < 0) die("initialise libsodium");
  if (argc >= 2 && strcmp(argv[1], "version") == 0) {
    printf("%s\n", sodium_version_string());
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "steps") == 0) {
    secmem_steps(parse_count(argv[2]));
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "memory") == 0) {
    memory(parse_count(argv[2]));
    return 0;
  }
  if (argc == 4 && strcmp(argv[1], "count") == 0) {
    if (!workload_known(argv[2])) die("recognise the workload");
    struct fixture f;
    setup(argv[2], &f);
    run(argv[2], &f, WARMUP);
    run(argv[2], &f, parse_count(argv[3]));
    teardown(&f);
    return 0;
  }
  if (argc >= 3 && strcmp(argv[1], "time") == 0) {
    for (int i = 2; i < argc; i++) {
      char *colon = strchr(argv[i], ':');
      if (colon == NULL) die("parse WORKLOAD:ITERATIONS");
      *colon = '\0';
      if (!workload_known(argv[i])) die("recognise the workload");
      long n = parse_count(colon + 1);
      if (n == 0) die("time zero iterations");
      struct fixture f;
      setup(argv[i], &f);
      warm_up(argv[i], &f, n);
      struct rusage r0, r1;
      getrusage(RUSAGE_SELF, &r0);
      double c0 = thread_cpu_ns();
      double t0 = now_ns();
      run(argv[i], &f, n);
      double t1 = now_ns();
      double c1 = thread_cpu_ns();
      getrusage(RUSAGE_SELF, &r1);
      teardown(&f);
      printf("%s %.1f %.1f %.1f %.1f\n", argv[i], (t1 - t0) / (double)n,
             (cpu_ns(&r1.ru_utime) - cpu_ns(&r0.ru_utime)) / (double)n,
             (cpu_ns(&r1.ru_stime) - cpu_ns(&r0.ru_stime)) / (double)n,
             (c1 - c0) / (double)n);
      fflush(stdout);
    }
    return 0;
  }
  fprintf(stderr,
          "usage: sodium_bench time WORKLOAD:N ... | count WORKLOAD N | "
          "memory COUNT | steps N | version\n");
  return 2;
}
