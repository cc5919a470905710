// crashpoint.so: an LD_PRELOAD shim for the crash-point sweep (docs/testing.md, "Crash-point
// sweep"). Loaded into one bridgeify process only; compiled by the test at run time:
//
//   cc -shared -fPIC -O2 -o crashpoint.so Tests/CrashSweep/crashpoint.c -ldl -pthread
//
// It watches the process's D-Bus connections from the outside, at the system-call boundary,
// so that it sees every method call the process makes without knowing anything about the code
// that makes them: a call added to bridgeify or the library later is found and swept too.
//
// - A D-Bus connection is recognised by its SASL handshake: on a Unix stream socket the client
//   first writes one NUL byte, then "AUTH ...". Every other descriptor (files, pipes, the
//   rtnetlink sockets bridgeify reads neighbours with) is passed through untouched.
// - After the client's "BEGIN\r\n" the outgoing bytes are D-Bus messages. They are framed from
//   the fixed 16-byte header (endianness, type, flags, version, body length, serial, length of
//   the header-field array): a message is 16 + fields, padded to 8, + body bytes. Partial and
//   batched writes are handled: only the bytes the kernel accepted count.
// - Each METHOD_CALL (type 1), once its last byte is written, is numbered k = 1, 2, ... (in the
//   order of the writes, over all connections) and appended to $CRASHPOINT_LOG as
//   "k<TAB>member<TAB>interface<TAB>path<TAB>destination". Lines starting with '#' are events.
//
// With CRASHPOINT_AT=k and CRASHPOINT_SIGNAL=TERM|KILL|STOP, a write that would carry call k and
// more is cut right after call k's last byte (a short write, which libdbus completes later as
// it does any short write on its non-blocking socket), and once call k is on the wire:
// - TERM: kill(getpid(), SIGTERM), then every read on that connection is delayed until
//   CRASHPOINT_HOLD_MS (default 300) have passed: the reply is held back, so that the process
//   meets the signal with call k in flight. (kill(getpid()), a process-directed signal, not
//   raise(), which would target this thread, the I/O thread, where the signal may be blocked.)
// - KILL: kill(getpid(), SIGKILL).
// - STOP: kill(getpid(), SIGSTOP); the test holds the process stopped, then sends SIGCONT.
//
// With CRASHPOINT_MEMBER=NAME as well, k counts only the calls to that member (the k-th
// Update2, say), so that a point stays the same point when the calls before it vary from run
// to run (the VM tier's power cut). The signal then comes once the write that carried that
// call returns (libdbus writes one message per write; a batched write is not cut short).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MAX_FDS 4096
#define MAX_HEADER (1u << 20) // header fields beyond this are not parsed (names not logged)

enum mode { UNKNOWN = 0, IGNORED, SASL_NUL, SASL, MESSAGES };

// What is known of one descriptor's outgoing stream. Everything but `header` is plain data,
// so that a copy can be advanced to look ahead (dry run) without changing the real state.
struct stream {
    int mode;
    char line[8];        // SASL: the first bytes of the line being written
    unsigned line_len;   // SASL: its length so far
    int line_done;       // SASL: saw '\r'
    uint64_t have;       // MESSAGES: bytes of the current message seen
    uint64_t total;      // MESSAGES: its length, once the fixed header is complete (else 0)
    uint64_t header_len; // MESSAGES: 16 + fields, padded to 8
    uint8_t fixed[16];
};

struct header_buffer {
    uint8_t *bytes;
    size_t capacity;
};

static struct stream streams[MAX_FDS];
static struct header_buffer headers[MAX_FDS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long calls;      // method calls completed so far
static long crash_at;   // CRASHPOINT_AT, 0 = only record
static char crash_member[128]; // CRASHPOINT_MEMBER: k counts only calls to this member
static long member_calls;      // calls to crash_member so far
static int crash_signal; // SIGTERM, SIGKILL, SIGSTOP, or 0
static long hold_ms = 300;
static int log_fd = -1;
static int fired;
// TERM: reads on this descriptor wait until hold_until (CLOCK_MONOTONIC, ns).
static volatile int hold_fd = -1;
static volatile int64_t hold_until;

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_send)(int, const void *, size_t, int);
static ssize_t (*real_sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
static ssize_t (*real_sendmsg)(int, const struct msghdr *, int);
static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_readv)(int, const struct iovec *, int);
static ssize_t (*real_recv)(int, void *, size_t, int);
static ssize_t (*real_recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
static ssize_t (*real_recvmsg)(int, struct msghdr *, int);
static int (*real_close)(int);
static int (*real_socket)(int, int, int);
static int (*real_connect)(int, const struct sockaddr *, socklen_t);

static void resolve(void) {
    if (real_write) return;
    real_write = dlsym(RTLD_NEXT, "write");
    real_writev = dlsym(RTLD_NEXT, "writev");
    real_send = dlsym(RTLD_NEXT, "send");
    real_sendto = dlsym(RTLD_NEXT, "sendto");
    real_sendmsg = dlsym(RTLD_NEXT, "sendmsg");
    real_read = dlsym(RTLD_NEXT, "read");
    real_readv = dlsym(RTLD_NEXT, "readv");
    real_recv = dlsym(RTLD_NEXT, "recv");
    real_recvfrom = dlsym(RTLD_NEXT, "recvfrom");
    real_recvmsg = dlsym(RTLD_NEXT, "recvmsg");
    real_close = dlsym(RTLD_NEXT, "close");
    real_socket = dlsym(RTLD_NEXT, "socket");
    real_connect = dlsym(RTLD_NEXT, "connect");
}

static void log_line(const char *format, ...) {
    if (log_fd < 0) return;
    char line[2048];
    va_list args;
    va_start(args, format);
    int n = vsnprintf(line, sizeof line, format, args);
    va_end(args);
    if (n < 0) return;
    if ((size_t)n >= sizeof line) n = sizeof line - 1;
    // One write per line, O_APPEND: whole lines even if the process dies right after.
    (void)real_write(log_fd, line, (size_t)n);
}

__attribute__((constructor)) static void crashpoint_init(void) {
    resolve();
    const char *path = getenv("CRASHPOINT_LOG");
    if (path && *path) log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    const char *at = getenv("CRASHPOINT_AT");
    if (at && *at) crash_at = strtol(at, NULL, 10);
    const char *member = getenv("CRASHPOINT_MEMBER");
    if (member && *member) snprintf(crash_member, sizeof crash_member, "%s", member);
    const char *sig = getenv("CRASHPOINT_SIGNAL");
    if (sig && strcmp(sig, "TERM") == 0) crash_signal = SIGTERM;
    else if (sig && strcmp(sig, "KILL") == 0) crash_signal = SIGKILL;
    else if (sig && strcmp(sig, "STOP") == 0) crash_signal = SIGSTOP;
    else if (sig && strcmp(sig, "INT") == 0) crash_signal = SIGINT;
    else if (sig && strcmp(sig, "HUP") == 0) crash_signal = SIGHUP;
    const char *hold = getenv("CRASHPOINT_HOLD_MS");
    if (hold && *hold) hold_ms = strtol(hold, NULL, 10);
    if (crash_at > 0 && crash_signal == 0) crash_at = 0; // nothing to send: record only
    log_line("# pid %d at %ld signal %s hold %ld\n", (int)getpid(), crash_at, sig ? sig : "-", hold_ms);
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int is_socket(int fd) {
    struct stat st;
    return fd >= 0 && fd < MAX_FDS && fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

static void reset(int fd) {
    if (fd < 0 || fd >= MAX_FDS) return;
    memset(&streams[fd], 0, sizeof streams[fd]);
    if (hold_fd == fd) hold_fd = -1;
}

static uint32_t u32(const uint8_t *p, int little) {
    return little ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
                  : (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24;
}

// The header fields of a complete header (16 + fields bytes): PATH (1), INTERFACE (2),
// MEMBER (3) and DESTINATION (6), each a string or object path. Missing ones stay "".
static void parse_fields(const uint8_t *h, size_t len, char names[7][256]) {
    for (int i = 0; i < 7; i++) names[i][0] = 0;
    if (len < 16) return;
    int little = h[0] == 'l';
    size_t end = 16 + u32(h + 12, little);
    if (end > len) end = len;
    size_t pos = 16;
    while (pos < end) {
        pos = (pos + 7) & ~(size_t)7;
        if (pos + 4 > end) return;
        uint8_t code = h[pos];
        uint8_t sig_len = h[pos + 1];
        if (sig_len != 1 || pos + 3 > end) return; // every standard field is a single type
        char type = (char)h[pos + 2];
        pos += 4; // code, signature length, type, NUL
        if (type == 's' || type == 'o') {
            pos = (pos + 3) & ~(size_t)3;
            if (pos + 4 > end) return;
            uint32_t n = u32(h + pos, little);
            pos += 4;
            if (pos + n + 1 > end) return;
            if (code < 7) {
                size_t copy = n < 255 ? n : 255;
                memcpy(names[code], h + pos, copy);
                names[code][copy] = 0;
            }
            pos += n + 1;
        } else if (type == 'g') {
            uint8_t n = h[pos];
            pos += 1 + n + 1;
        } else if (type == 'u' || type == 'h') {
            pos = ((pos + 3) & ~(size_t)3) + 4;
        } else {
            return;
        }
    }
}

// Advances `s` over `n` bytes the client wrote on `fd`. Dry run (`dry`): `header` is not
// touched, nothing is logged, and the return value is the number of bytes up to and including
// the last byte of method call number `target` (counting on from `base`), or n if it does not
// end within them. Real run: returns n; each completed method call is numbered, logged, and
// `*fire` is set when it is the one to crash at.
static size_t advance(struct stream *s, int fd, const uint8_t *p, size_t n, int dry, long base, long target,
                      int *fire) {
    size_t i = 0;
    long count = base;
    while (i < n) {
        switch (s->mode) {
        case UNKNOWN:
            if (p[i] != 0) { s->mode = IGNORED; return n; }
            s->mode = SASL_NUL;
            i++;
            break;
        case SASL_NUL: // the byte after the NUL must begin "AUTH"
        case SASL: {
            char c = (char)p[i++];
            if (s->line_len < sizeof s->line) s->line[s->line_len] = c;
            s->line_len++;
            if (s->mode == SASL_NUL && s->line_len <= 4 && c != "AUTH"[s->line_len - 1]) {
                s->mode = IGNORED;
                return n;
            }
            if (s->mode == SASL_NUL && s->line_len == 4) s->mode = SASL;
            if (c == '\n') {
                if (s->line_len == 7 && memcmp(s->line, "BEGIN\r\n", 7) == 0) {
                    s->mode = MESSAGES;
                    s->have = s->total = 0;
                }
                s->line_len = 0;
            }
            break;
        }
        case MESSAGES: {
            size_t take;
            if (s->have < 16) {
                take = 16 - s->have < n - i ? 16 - s->have : n - i;
                memcpy(s->fixed + s->have, p + i, take);
            } else {
                take = s->total - s->have < n - i ? s->total - s->have : n - i;
            }
            if (!dry) { // keep the header (fixed part and fields) for the names
                struct header_buffer *hb = &headers[fd];
                uint64_t want = s->have < 16 ? 16 : s->header_len;
                if (want > MAX_HEADER) want = 0;
                if (s->have < want) {
                    size_t keep = want - s->have < take ? want - s->have : take;
                    if (hb->capacity < s->have + keep) {
                        size_t cap = hb->capacity ? hb->capacity : 256;
                        while (cap < s->have + keep) cap *= 2;
                        uint8_t *bigger = realloc(hb->bytes, cap);
                        if (bigger) { hb->bytes = bigger; hb->capacity = cap; }
                    }
                    if (hb->capacity >= s->have + keep) memcpy(hb->bytes + s->have, p + i, keep);
                }
            }
            s->have += take;
            i += take;
            if (s->have == 16 && s->total == 0) {
                int little = s->fixed[0] == 'l';
                uint64_t fields = u32(s->fixed + 12, little);
                s->header_len = (16 + fields + 7) & ~(uint64_t)7;
                s->total = s->header_len + u32(s->fixed + 4, little);
                // The rest of the header, if it arrives in this same write, is kept by the
                // next turn of the loop (want = header_len).
            }
            if (s->have >= 16 && s->have == s->total) {
                int type = s->fixed[1];
                if (type == 1) {
                    count++;
                    if (dry) {
                        if (count == target) return i;
                    } else {
                        char names[7][256];
                        struct header_buffer *hb = &headers[fd];
                        if (hb->bytes && hb->capacity >= s->header_len && s->header_len <= MAX_HEADER)
                            parse_fields(hb->bytes, s->header_len, names);
                        else
                            for (int k = 0; k < 7; k++) names[k][0] = 0;
                        calls = count;
                        log_line("%ld\t%s\t%s\t%s\t%s\n", count, names[3], names[2], names[1], names[6]);
                        if (crash_member[0]) {
                            if (strcmp(names[3], crash_member) == 0 && ++member_calls == crash_at && !fired) {
                                fired = 1;
                                *fire = 1;
                            }
                        } else if (count == crash_at && !fired) {
                            fired = 1;
                            *fire = 1;
                        }
                    }
                }
                s->have = s->total = s->header_len = 0;
            }
            break;
        }
        default:
            return n;
        }
    }
    return n;
}

// How many of the n bytes about to be written may go now: all of them, unless call number
// crash_at ends within them, then exactly up to its last byte.
static size_t limit(int fd, const uint8_t *p, size_t n) {
    if (crash_at <= 0 || fired || crash_member[0] || calls >= crash_at) return n;
    struct stream copy = streams[fd];
    return advance(&copy, fd, p, n, 1, calls, crash_at, NULL);
}

static void after_fire(int fd) {
    if (crash_member[0]) log_line("# signal %d after call %ld (%s %ld)\n", crash_signal, calls, crash_member, crash_at);
    else log_line("# signal %d after call %ld\n", crash_signal, crash_at);
    if (crash_signal == SIGTERM || crash_signal == SIGINT || crash_signal == SIGHUP) {
        hold_until = now_ns() + (int64_t)hold_ms * 1000000;
        hold_fd = fd;
    }
    kill(getpid(), crash_signal);
}

// Every write path: the descriptor is looked at only if it is a socket; a D-Bus one is framed
// under the lock, with signals blocked so that a handler writing to a socket cannot deadlock.
// `io` writes at most `max` bytes of the gathered data and returns what the kernel took.
typedef ssize_t (*io_fn)(void *context, size_t max);

static ssize_t tracked_write(int fd, const struct iovec *iov, int iovcnt, io_fn io, void *context) {
    if (!is_socket(fd)) return io(context, SIZE_MAX);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pthread_mutex_lock(&lock);
    struct stream *s = &streams[fd];
    if (s->mode == UNKNOWN) {
        int domain = 0, type = 0;
        socklen_t len = sizeof domain;
        getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len);
        len = sizeof type;
        getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
        if (domain != AF_UNIX || type != SOCK_STREAM) s->mode = IGNORED;
    }
    if (s->mode == IGNORED) {
        pthread_mutex_unlock(&lock);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return io(context, SIZE_MAX);
    }
    // The write's bytes, gathered (messages are small; a big one is looked at in pieces).
    size_t total = 0;
    for (int i = 0; i < iovcnt; i++) total += iov[i].iov_len;
    size_t max = SIZE_MAX;
    if (crash_at > 0 && !fired) {
        uint8_t *flat = malloc(total ? total : 1);
        if (flat) {
            size_t off = 0;
            for (int i = 0; i < iovcnt; i++) { memcpy(flat + off, iov[i].iov_base, iov[i].iov_len); off += iov[i].iov_len; }
            size_t allowed = limit(fd, flat, total);
            if (allowed < total) max = allowed;
            free(flat);
        }
    }
    ssize_t written = io(context, max);
    int saved = errno;
    int fire = 0;
    if (written > 0) {
        size_t left = (size_t)written;
        for (int i = 0; i < iovcnt && left > 0; i++) {
            size_t part = iov[i].iov_len < left ? iov[i].iov_len : left;
            advance(s, fd, iov[i].iov_base, part, 0, calls, 0, &fire);
            left -= part;
        }
    }
    pthread_mutex_unlock(&lock);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (fire) after_fire(fd);
    errno = saved;
    return written;
}

// Reads: only the held-back reply of TERM waits.
static void maybe_hold(int fd) {
    if (fd != hold_fd) return;
    int64_t wait = hold_until - now_ns();
    if (wait <= 0) return;
    struct timespec ts = {(time_t)(wait / 1000000000), (long)(wait % 1000000000)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

// Cutting a gathered write short: the first iovecs, the last one shortened.
static int clip(const struct iovec *iov, int iovcnt, size_t max, struct iovec *out) {
    int n = 0;
    for (int i = 0; i < iovcnt && max > 0; i++) {
        out[n] = iov[i];
        if (out[n].iov_len > max) out[n].iov_len = max;
        max -= out[n].iov_len;
        n++;
    }
    return n;
}

struct plain { int fd; const void *buf; size_t len; int flags; const struct sockaddr *addr; socklen_t addrlen; int kind; };
static ssize_t plain_io(void *context, size_t max) {
    struct plain *c = context;
    size_t len = c->len < max ? c->len : max;
    switch (c->kind) {
    case 0: return real_write(c->fd, c->buf, len);
    case 1: return real_send(c->fd, c->buf, len, c->flags);
    default: return real_sendto(c->fd, c->buf, len, c->flags, c->addr, c->addrlen);
    }
}

struct gathered { int fd; const struct iovec *iov; int iovcnt; const struct msghdr *msg; int flags; };
static ssize_t gathered_io(void *context, size_t max) {
    struct gathered *c = context;
    if (max == SIZE_MAX)
        return c->msg ? real_sendmsg(c->fd, c->msg, c->flags) : real_writev(c->fd, c->iov, c->iovcnt);
    struct iovec *cut = alloca(sizeof(struct iovec) * (size_t)(c->iovcnt > 0 ? c->iovcnt : 1));
    int n = clip(c->iov, c->iovcnt, max, cut);
    if (c->msg) {
        struct msghdr m = *c->msg;
        m.msg_iov = cut;
        m.msg_iovlen = (size_t)n;
        return real_sendmsg(c->fd, &m, c->flags);
    }
    return real_writev(c->fd, cut, n);
}

ssize_t write(int fd, const void *buf, size_t len) {
    resolve();
    struct plain c = {fd, buf, len, 0, NULL, 0, 0};
    struct iovec v = {(void *)buf, len};
    return tracked_write(fd, &v, 1, plain_io, &c);
}

ssize_t send(int fd, const void *buf, size_t len, int flags) {
    resolve();
    struct plain c = {fd, buf, len, flags, NULL, 0, 1};
    struct iovec v = {(void *)buf, len};
    return tracked_write(fd, &v, 1, plain_io, &c);
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *addr, socklen_t addrlen) {
    resolve();
    struct plain c = {fd, buf, len, flags, addr, addrlen, 2};
    struct iovec v = {(void *)buf, len};
    return tracked_write(fd, &v, 1, plain_io, &c);
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt) {
    resolve();
    struct gathered c = {fd, iov, iovcnt, NULL, 0};
    return tracked_write(fd, iov, iovcnt, gathered_io, &c);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags) {
    resolve();
    struct gathered c = {fd, msg->msg_iov, (int)msg->msg_iovlen, msg, flags};
    return tracked_write(fd, msg->msg_iov, (int)msg->msg_iovlen, gathered_io, &c);
}

ssize_t read(int fd, void *buf, size_t len) {
    resolve();
    maybe_hold(fd);
    return real_read(fd, buf, len);
}

ssize_t readv(int fd, const struct iovec *iov, int iovcnt) {
    resolve();
    maybe_hold(fd);
    return real_readv(fd, iov, iovcnt);
}

ssize_t recv(int fd, void *buf, size_t len, int flags) {
    resolve();
    maybe_hold(fd);
    return real_recv(fd, buf, len, flags);
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr, socklen_t *addrlen) {
    resolve();
    maybe_hold(fd);
    return real_recvfrom(fd, buf, len, flags, addr, addrlen);
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags) {
    resolve();
    maybe_hold(fd);
    return real_recvmsg(fd, msg, flags);
}

// A descriptor number that is closed or reopened starts a new stream.
static void forget(int fd) {
    if (fd < 0 || fd >= MAX_FDS) return;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pthread_mutex_lock(&lock);
    reset(fd);
    pthread_mutex_unlock(&lock);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

int close(int fd) {
    resolve();
    forget(fd);
    return real_close(fd);
}

int socket(int domain, int type, int protocol) {
    resolve();
    int fd = real_socket(domain, type, protocol);
    forget(fd);
    return fd;
}

int connect(int fd, const struct sockaddr *addr, socklen_t len) {
    resolve();
    forget(fd);
    return real_connect(fd, addr, len);
}
