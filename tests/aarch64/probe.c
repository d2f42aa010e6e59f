/*
 * Prints, as one JSON object, the values that secmem's ffi/linux.ts (and
 * tests/_test_libc.ts) restate by hand, read from the headers of the libc
 * and kernel this file is compiled against. tests/aarch64/setup.sh builds
 * it with aarch64-linux-gnu-gcc and runs it under qemu-aarch64, so the
 * numbers are aarch64 glibc's and the arm64 kernel headers'; the aarch64
 * pass then compares them with the tables (tests/aarch64/qemu_test.ts).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static int first = 1;

static void field(const char *name, unsigned long long value) {
  printf("%s\n  \"%s\": %llu", first ? "{" : ",", name, value);
  first = 0;
}

#define F(name) field(#name, (unsigned long long)(name))

int main(void) {
  F(PROT_NONE);
  F(PROT_READ);
  F(PROT_WRITE);
  F(PROT_EXEC);
  F(MAP_SHARED);
  F(MAP_PRIVATE);
  F(MAP_FIXED);
  F(MAP_ANONYMOUS);
  F(MAP_LOCKED);
  F(MAP_NORESERVE);
  F(MADV_DONTFORK);
  F(MADV_DONTDUMP);
  F(MADV_WIPEONFORK);
  F(RLIMIT_CORE);
  F(RLIMIT_MEMLOCK);
  field("RLIMIT_SIZE", sizeof(struct rlimit));
  field("RLIM_INFINITY_IS_ALL_ONES", RLIM_INFINITY == (rlim_t)-1);
  F(_SC_PAGESIZE);
  F(O_RDONLY);
  F(O_CLOEXEC);
  F(GRND_NONBLOCK);
  F(GRND_RANDOM);
  F(SYS_memfd_secret);
  F(SYS_getrandom);
  F(SYS_write);
  F(SYS_exit_group);
  F(EPERM);
  F(ENOENT);
  F(EINTR);
  F(EIO);
  F(ENXIO);
  F(EBADF);
  F(EAGAIN);
  F(ENOMEM);
  F(EACCES);
  F(ENOTDIR);
  F(EISDIR);
  F(EINVAL);
  F(EMFILE);
  F(ENOTTY);
  F(ENOSYS);
  field("TERMIOS_SIZE", sizeof(struct termios));
  field("TERMIOS_LFLAG_OFFSET", offsetof(struct termios, c_lflag));
  field("TERMIOS_CC_OFFSET", offsetof(struct termios, c_cc));
  field("TERMIOS_LFLAG_SIZE", sizeof(tcflag_t));
  F(ISIG);
  F(ICANON);
  F(ECHO);
  F(ECHONL);
  F(IEXTEN);
  F(VTIME);
  F(VMIN);
  F(TCSANOW);
  F(WNOHANG);
  F(SIGKILL);
  F(SIGABRT);
  F(SIGCHLD);
  F(SEEK_DATA);
  F(SEEK_HOLE);
  field("PAGE_SIZE_AT_RUN", (unsigned long long)sysconf(_SC_PAGESIZE));
  printf("\n}\n");
  return 0;
}
