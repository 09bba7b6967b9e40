#define _GNU_SOURCE
#include "CJobdSystem.h"
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <math.h>
#include <ctype.h>
#include <limits.h>
#include <fcntl.h>
#include <sys/wait.h>

int cjobd_accept_nonblocking(int fd, struct sockaddr *addr, socklen_t *len) {
    return accept4(fd, addr, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

void cjobd_set_thread_name(const char *name) {
    char buf[16];
    strncpy(buf, name, sizeof buf - 1);
    buf[sizeof buf - 1] = 0;
    pthread_setname_np(pthread_self(), buf);
}

int cjobd_futex_wait(uint32_t *addr, uint32_t expected, int64_t timeout_ns) {
    struct timespec ts, *tsp = NULL;
    if (timeout_ns >= 0) {
        ts.tv_sec = timeout_ns / 1000000000;
        ts.tv_nsec = timeout_ns % 1000000000;
        tsp = &ts;
    }
    return (int)syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, expected, tsp, NULL, 0);
}

int cjobd_futex_wake(uint32_t *addr, int count) {
    return (int)syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, count, NULL, NULL, 0);
}

size_t cjobd_malloc_in_use(void) {
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

size_t cjobd_rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    unsigned long size = 0, resident = 0;
    int n = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    if (n != 2) return 0;
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

int cjobd_signalfd_for_shutdown(void) {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    if (pthread_sigmask(SIG_BLOCK, &mask, NULL) != 0) return -1;
    return signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
}

void cjobd_ignore_sigpipe(void) {
    signal(SIGPIPE, SIG_IGN);
}

int cjobd_errno(void) { return errno; }

void cjobd_tune_malloc(void) {
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
}

int cjobd_format_double(double value, char *out, size_t cap) {
    return snprintf(out, cap, "%.17g", value);
}

#define CJOBD_MAX_LONG_DOUBLE_CHARS (5 * 1024)

/* Redis' string2ld: the whole string must be a float, no spaces, no NaN, no overflow. */
static int parse_long_double(const char *s, size_t len, long double *out) {
    char buf[CJOBD_MAX_LONG_DOUBLE_CHARS];
    if (len == 0 || len >= sizeof buf) return 0;
    memcpy(buf, s, len);
    buf[len] = 0;
    errno = 0;
    char *end;
    long double value = strtold(buf, &end);
    if (isspace((unsigned char)buf[0]) || *end != 0 || (size_t)(end - buf) != len ||
        (errno == ERANGE && (value == HUGE_VALL || value == -HUGE_VALL || fpclassify(value) == FP_ZERO)) ||
        errno == EINVAL || isnan(value))
        return 0;
    *out = value;
    return 1;
}

int cjobd_parse_double(const char *s, size_t len, double *out) {
    char buf[CJOBD_MAX_LONG_DOUBLE_CHARS];
    if (len == 0 || len >= sizeof buf) return 0;
    memcpy(buf, s, len);
    buf[len] = 0;
    errno = 0;
    char *end;
    double value = strtod(buf, &end);
    if (isspace((unsigned char)buf[0]) || (size_t)(end - buf) != len ||
        (errno == ERANGE && (value == HUGE_VAL || value == -HUGE_VAL || fpclassify(value) == FP_ZERO)) ||
        isnan(value))
        return 0;
    *out = value;
    return 1;
}

int cjobd_parse_range_double(const char *s, size_t len, double *out) {
    char buf[CJOBD_MAX_LONG_DOUBLE_CHARS];
    if (len >= sizeof buf) return 0;
    memcpy(buf, s, len);
    buf[len] = 0;
    char *end;
    double value = strtod(buf, &end);
    /* As Redis' zslParseRange: whatever strtod takes, up to the first NUL; NaN refused. */
    if (*end != '\0' || isnan(value)) return 0;
    *out = value;
    return 1;
}

int cjobd_incr_long_double(const char *current, size_t current_len,
                           const char *increment, size_t increment_len,
                           char *out, size_t cap) {
    long double value = 0, incr = 0;
    if (current != NULL && !parse_long_double(current, current_len, &value)) return -1;
    if (!parse_long_double(increment, increment_len, &incr)) return -2;
    value += incr;
    if (isnan(value) || isinf(value)) return -3;
    /* Redis' ld2string(LD_STR_HUMAN): %.17Lf without trailing zeros. */
    int l = snprintf(out, cap, "%.17Lf", value);
    if (l < 0 || (size_t)l + 1 > cap) return -3;
    if (strchr(out, '.') != NULL) {
        char *p = out + l - 1;
        while (*p == '0') { p--; l--; }
        if (*p == '.') l--;
    }
    if (l == 2 && out[0] == '-' && out[1] == '0') { out[0] = '0'; l = 1; }
    return l;
}

int cjobd_parse_timeout_seconds(const char *s, size_t len, int64_t *millis) {
    long double value;
    if (!parse_long_double(s, len, &value)) return 1;
    value *= 1000.0L;
    if (value > (long double)LLONG_MAX) return 2;
    *millis = (int64_t)ceill(value);
    return 0;
}

/* CRC-32C: hardware instruction when present, else a byte table (slow path). */
static uint32_t crc32c_table[256];
static int crc32c_table_ready = 0;

static uint32_t crc32c_software(uint32_t crc, const unsigned char *p, size_t len) {
    if (!crc32c_table_ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            crc32c_table[i] = c;
        }
        crc32c_table_ready = 1;
    }
    crc = ~crc;
    while (len--) crc = crc32c_table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2")))
static uint32_t crc32c_hardware(uint32_t crc, const unsigned char *p, size_t len) {
    uint64_t c = ~crc & 0xFFFFFFFFu;
    while (len >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        c = __builtin_ia32_crc32di(c, word);
        p += 8;
        len -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (len--) c32 = __builtin_ia32_crc32qi(c32, *p++);
    return ~c32;
}
#endif

uint32_t cjobd_crc32c(uint32_t crc, const void *data, size_t len) {
#if defined(__x86_64__)
    static int has_sse42 = -1;
    if (has_sse42 < 0) has_sse42 = __builtin_cpu_supports("sse4.2") ? 1 : 0;
    if (has_sse42) return crc32c_hardware(crc, (const unsigned char *)data, len);
#endif
    return crc32c_software(crc, (const unsigned char *)data, len);
}

int cjobd_fdatasync(int fd) {
    int rc;
    do { rc = fdatasync(fd); } while (rc == -1 && errno == EINTR);
    return rc;
}

int cjobd_fsync_directory(const char *path) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc;
    do { rc = fsync(fd); } while (rc == -1 && errno == EINTR);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

const void *cjobd_memmem(const void *haystack, size_t hlen, const void *needle, size_t nlen) {
    return memmem(haystack, hlen, needle, nlen);
}

int cjobd_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int cjobd_pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

int cjobd_child_ended_nowait(pid_t pid) {
    siginfo_t info;
    memset(&info, 0, sizeof info);
    int rc;
    do { rc = waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT); } while (rc == -1 && errno == EINTR);
    if (rc == -1) return -1;
    return info.si_pid == pid ? 1 : 0;
}

char **cjobd_environ(void) { return environ; }
