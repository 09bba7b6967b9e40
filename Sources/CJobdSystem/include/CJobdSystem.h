// The few system interfaces Swift's Glibc module does not export, plus
// wrappers for GNU-only calls. No logic lives here.
#ifndef CJOBD_SYSTEM_H
#define CJOBD_SYSTEM_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/un.h>
#include <signal.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <time.h>

/// accept4 with SOCK_NONBLOCK | SOCK_CLOEXEC.
int cjobd_accept_nonblocking(int fd, struct sockaddr *addr, socklen_t *len);

/// Names the calling thread (shows in top -H and gdb); truncated to 15 bytes.
void cjobd_set_thread_name(const char *name);

/// futex(FUTEX_WAIT_PRIVATE): sleeps while *addr == expected, up to timeout_ns (<0: forever).
int cjobd_futex_wait(uint32_t *addr, uint32_t expected, int64_t timeout_ns);

/// futex(FUTEX_WAKE_PRIVATE): wakes up to count waiters.
int cjobd_futex_wake(uint32_t *addr, int count);

/// Bytes in use according to the allocator (mallinfo2().uordblks + hblkhd).
size_t cjobd_malloc_in_use(void);

/// Resident set size of this process in bytes, from /proc/self/statm.
size_t cjobd_rss_bytes(void);

/// Blocks SIGTERM, SIGINT, SIGHUP for this thread (and threads it starts)
/// and returns a signalfd that reports them, or -1.
int cjobd_signalfd_for_shutdown(void);

/// Ignores SIGPIPE for the whole process.
void cjobd_ignore_sigpipe(void);

/// errno of the calling thread (Swift's errno accessor is fine too; this one
/// is usable from any context).
int cjobd_errno(void);

/// Sets M_MMAP_THRESHOLD to 128 KiB so large freed buffers go back to the OS.
void cjobd_tune_malloc(void);

/// Formats a double as printf("%.17g"), Redis' reply format. Returns the length.
int cjobd_format_double(double value, char *out, size_t cap);

/// Parses a double as Redis does (strtod, whole string, no leading space, no NaN,
/// no overflow). Returns 1 and sets *out on success, else 0.
int cjobd_parse_double(const char *s, size_t len, double *out);

/// INCRBYFLOAT with long double arithmetic as Redis does. `current` may be NULL
/// (missing key = 0). Returns the formatted length written to out, or
/// -1 when current is not a float, -2 when increment is not a float,
/// -3 when the result would be NaN or infinite.
int cjobd_incr_long_double(const char *current, size_t current_len,
                           const char *increment, size_t increment_len,
                           char *out, size_t cap);

/// Parses a timeout in (possibly fractional) seconds as Redis' BLPOP does,
/// into whole milliseconds rounded up. Returns 0 ok, 1 not a float, 2 out of range.
int cjobd_parse_timeout_seconds(const char *s, size_t len, int64_t *millis);

/// CRC-32C (Castagnoli) of `len` bytes, continuing from `crc` (0 to start).
/// Uses the SSE4.2 / ARMv8 CRC instruction when the CPU has it.
uint32_t cjobd_crc32c(uint32_t crc, const void *data, size_t len);

/// fdatasync(2) with EINTR retried; returns 0 or -1 with errno.
int cjobd_fdatasync(int fd);

/// fsync of a directory (makes a rename inside it durable); 0 or -1.
int cjobd_fsync_directory(const char *path);

/// A cheap, monotonic tick counter for timing commands: the TSC on x86-64
/// (invariant on the CPUs jobd runs on), nanoseconds elsewhere.
static inline uint64_t cjobd_ticks(void) {
#if defined(__x86_64__)
    return __builtin_ia32_rdtsc();
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
/// pipe2(fds, O_CLOEXEC): both ends close-on-exec, atomically (no fork/exec race).
int cjobd_pipe_cloexec(int fds[2]);

/// pidfd_open(pid, 0) (Linux 5.3+): a close-on-exec descriptor that polls
/// readable when the process exits. -1 with errno (ENOSYS, EPERM under some
/// seccomp profiles) when unavailable.
int cjobd_pidfd_open(pid_t pid);

/// waitid(P_PID, pid, WEXITED | WNOHANG | WNOWAIT): 1 when the child has ended
/// (it stays a zombie, still reapable), 0 when it runs, -1 with errno.
int cjobd_child_ended_nowait(pid_t pid);

/// The process environment (`environ`), read through a function so Swift does
/// not see a mutable global.
char **cjobd_environ(void);

#endif
}

/// A spin-wait hint (PAUSE on x86-64, YIELD on arm64): lets the sibling
/// hyperthread run and avoids a memory-order mis-speculation flush when the
/// awaited cache line finally changes.
static inline void cjobd_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

/// A sorted-set range bound as Redis' zslParseRange reads it: plain strtod
/// (leading spaces, an empty string as 0) up to the end or a NUL; NaN refused.
int cjobd_parse_range_double(const char *s, size_t len, double *out);

/// memmem(3) (GNU): the first occurrence of needle in haystack, or NULL.
const void *cjobd_memmem(const void *haystack, size_t hlen, const void *needle, size_t nlen);

/// pipe2(fds, O_CLOEXEC): both ends close-on-exec, atomically (no fork/exec race).
int cjobd_pipe_cloexec(int fds[2]);

/// pidfd_open(pid, 0) (Linux 5.3+): a close-on-exec descriptor that polls
/// readable when the process exits. -1 with errno (ENOSYS, EPERM under some
/// seccomp profiles) when unavailable.
int cjobd_pidfd_open(pid_t pid);

/// waitid(P_PID, pid, WEXITED | WNOHANG | WNOWAIT): 1 when the child has ended
/// (it stays a zombie, still reapable), 0 when it runs, -1 with errno.
int cjobd_child_ended_nowait(pid_t pid);

/// The process environment (`environ`), read through a function so Swift does
/// not see a mutable global.
char **cjobd_environ(void);

#endif
