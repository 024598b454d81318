/*
 * roomgen: an independent fan-out load generator for room servers (Shout's `serve --mode room`,
 * `ncat --broker`). One thread, one level-triggered epoll set, nonblocking sockets with
 * TCP_NODELAY; nothing shared with the server under test.
 *
 *   roomgen -a 127.0.0.1:9000 -m 100 -s 10 -r 1000 -l 32 -d 5 [-D 2] [-c 8] [-t TICK_US] [-p SERVER_PID]
 *
 * Connects -m members (at most -c connects in flight at once: ncat listens with a backlog of 10,
 * and a connect that overflows it looks established here but is never accepted), the first -s of
 * them senders. Before measuring, every sender sends a probe (sequence 0) every 250 ms until every
 * other member has heard every sender's probe: that proves each member was accepted and is in the
 * room. Then every sender sends -r lines per second for -d seconds, paced from the monotonic clock
 * (each tick of -t us, default 1000, the lines due so far in one write; -r 0: as fast as the socket
 * takes them). A sender keeps at most 64 KiB unsent: a server that does not read it holds it back,
 * and sentPerSecond says what it got out. A line is exactly -l bytes:
 *
 *   s003 00000123 00456789 xxxxxxxk\n       tag, sender, sequence, send time (us since the
 *                                            start of sending), padding, a check letter
 *
 * Every member reads with 256 KiB reads and checks every line: the last -l bytes before the '\n'
 * must be a line of the run (a room server may put `NAME: ` in front and may uppercase it; the
 * letters of a line are all lower or all upper case). Per member and sender: the next sequence is
 * a delivery, a jump is a loss, an earlier one fills a gap (reordered) or is a duplicate. A line
 * that is no line of the run (a broker that interleaves two senders' bytes mid-line makes them), or
 * a sequence its sender has not sent, is malformed. A sender's own line back without a prefix (a
 * Shout room answers the sender as in line mode) is an echo, not a delivery. Lines starting with
 * "* ", "OK ", "ERR ", "WHO " (Shout's notices and answers) are counted as notices.
 *
 * After the senders stop, the run waits until nothing is owed, or until -D seconds pass with no
 * delivery; what never came is lost. Deliveries per second run from the first line sent to the
 * last delivery read. Fan-out latency: the send time in the line to the read that got it. CPU:
 * the generator's own (getrusage) and, with -p, the server's (/proc/PID/stat, all threads), both
 * over the same interval, and how busy each core was meanwhile with anything (/proc/stat), so a
 * reader of a pinned run can tell what other processes took of the server's core. Output: one
 * JSON line; the caller judges the counts. Exit 1 on errors that stop a run (no connection,
 * members that never hear the senders).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RBUF (256 * 1024)
#define TAIL 256            /* the longest partial line a member carries over (NAME: + line) */
#define OUTBUF (64 * 1024)  /* a sender's unsent bytes; a sender the server does not read stops */
#define FINE 10000          /* latency histogram: 1 us buckets below 10 ms, */
#define COARSE 20000        /* then 1 ms buckets up to 20 s, then one bucket */
#define MINLINE 25

struct pair { uint32_t next, delivered, lost, dup, reord; };

struct member {
    int fd, index, state; /* state: 0 connecting, 1 open, -1 closed */
    int want_out;         /* EPOLLOUT armed */
    int tail_len, skipping;
    int prefix; /* length of the NAME: in front of the last prefixed line */
    /* The line this member expects next: the one it got last with the sequence one higher (the
       same sender, batch and send time). Most lines are exactly that, checked byte for byte. */
    char pred[TAIL];
    int pred_len;
    uint32_t pred_s, pred_q, pred_ts;
    char tail[TAIL];
    /* senders only */
    char *out;
    int out_off, out_len;
    uint64_t generated; /* lines numbered 1..generated */
};

static struct sockaddr_in addr;
static int nmembers = 100, nsenders = 10, linelen = 32, inflight = 8, server_pid;
static double rate = 1000, duration = 5, drain_quiet = 2;
static struct member *members;
static struct pair *pairs; /* [member * nsenders + sender] */
static int epfd, recording, open_members;
static uint64_t malformed, echoes, notices, ready_pairs, closed, errors;
static uint64_t hist[FINE + COARSE + 1];
static uint64_t delivered_total, reads, read_bytes;
static double t_send0, t_last_delivery;
static char first_error[256];
static char pad_lower[256], pad_upper[256];
static double tick = 0.001;

/* Gaps not yet filled, as ranges (a drop of a million lines is one entry); searched only when a
   line arrives later than the next expected one, which an in-order stream never does. */
struct gap { uint32_t pair, from, to; };
static struct gap *gaps;
static size_t ngaps, gap_cap;
static uint64_t gaps_untracked;

static void add_gap(uint32_t pair, uint32_t from, uint32_t to) {
    if (ngaps == gap_cap) {
        size_t cap = gap_cap ? gap_cap * 2 : 1024;
        struct gap *g = cap <= (1u << 24) ? realloc(gaps, cap * sizeof *g) : NULL;
        if (!g) { gaps_untracked++; return; }
        gaps = g;
        gap_cap = cap;
    }
    gaps[ngaps++] = (struct gap){pair, from, to};
}

/* 1 if q of this pair was missing (it now fills its gap), 0 if it had come already. */
static int fill_gap(uint32_t pair, uint32_t q) {
    for (size_t i = ngaps; i-- > 0;) {
        struct gap *g = &gaps[i];
        if (g->pair != pair || q < g->from || q > g->to) continue;
        if (g->from == g->to) *g = gaps[--ngaps];
        else if (q == g->from) g->from++;
        else if (q == g->to) g->to--;
        else { uint32_t to = g->to; g->to = q - 1; add_gap(pair, q + 1, to); }
        return 1;
    }
    return 0;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fail(const char *what) {
    errors++;
    if (!first_error[0]) snprintf(first_error, sizeof first_error, "%s: %s", what, strerror(errno));
}

static double cpu_of(int pid) { /* seconds of user+system CPU of a process, all its threads */
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p) return -1;
    unsigned long ut = 0, st = 0;
    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st);
    return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

#define MAXCPU 64
/* Busy and total jiffies of every CPU (/proc/stat): how much of each core anything got. */
static int core_times(unsigned long long busy[MAXCPU], unsigned long long total[MAXCPU]) {
    FILE *f = fopen("/proc/stat", "r");
    char line[512];
    int n = 0;
    if (!f) return 0;
    while (fgets(line, sizeof line, f) && n < MAXCPU) {
        unsigned long long v[8] = {0};
        int cpu;
        if (sscanf(line, "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) < 5 || cpu != n)
            continue;
        total[n] = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
        busy[n] = total[n] - v[3] - v[4]; /* less idle and iowait */
        n++;
    }
    fclose(f);
    return n;
}

static double self_cpu(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Eight ASCII digits to a number, without a loop (SWAR); 0 if any byte is not a digit. */
static inline int parse8(const char *p, uint32_t *out) {
    uint64_t v;
    memcpy(&v, p, 8);
    if (((v & 0xF0F0F0F0F0F0F0F0ULL) | (((v + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) >> 4)) != 0x3333333333333333ULL)
        return 0;
    v -= 0x3030303030303030ULL;
    v = (v * 10) + (v >> 8);
    v = (((v & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32))) +
         (((v >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32)))) >> 32;
    *out = (uint32_t)v;
    return 1;
}

static inline char check_letter(uint32_t s, uint32_t q, uint32_t t) { return 'a' + (s * 7 + q + t) % 26; }

static void put_digits(char *p, uint32_t v, int n) {
    for (int i = n - 1; i >= 0; i--) { p[i] = '0' + v % 10; v /= 10; }
}

/* One line of the run into p (exactly linelen bytes). */
static void format_line(char *p, uint32_t s, uint32_t q, uint32_t t) {
    p[0] = 's';
    put_digits(p + 1, s, 3);
    p[4] = ' ';
    put_digits(p + 5, q, 8);
    p[13] = ' ';
    put_digits(p + 14, t, 8);
    p[22] = ' ';
    memcpy(p + 23, pad_lower, linelen - 25);
    p[linelen - 2] = check_letter(s, q, t);
    p[linelen - 1] = '\n';
}

static inline void record_latency(uint32_t t, uint32_t sent) {
    uint32_t v = t > sent ? t - sent : 0, i;
    if (v < FINE) i = v;
    else if (v < FINE + COARSE * 1000) i = FINE + (v - FINE) / 1000;
    else i = FINE + COARSE;
    hist[i]++;
}

static double percentile(double p) {
    uint64_t total = 0, seen = 0;
    for (int i = 0; i <= FINE + COARSE; i++) total += hist[i];
    if (!total) return 0;
    uint64_t want = (uint64_t)(p * total + 0.5);
    if (want < 1) want = 1;
    for (int i = 0; i <= FINE + COARSE; i++) {
        seen += hist[i];
        if (seen >= want) return i < FINE ? i : FINE + (double)(i - FINE) * 1000; /* the last: "20 s or more" */
    }
    return 0;
}

static int is_notice(const char *p, size_t len) {
    return (len >= 2 && p[0] == '*' && p[1] == ' ') || (len >= 3 && !memcmp(p, "OK ", 3)) ||
           (len >= 4 && (!memcmp(p, "ERR ", 4) || !memcmp(p, "WHO ", 4)));
}

static uint64_t pad_word_lower, pad_word_upper;

static inline int padding_ok(const char *p, int n, int upper) { /* n bytes of x (or X), in two overlapping words */
    uint64_t want = upper ? pad_word_upper : pad_word_lower, w;
    if (n >= 8) {
        for (int i = 0; i + 8 <= n; i += 8) { memcpy(&w, p + i, 8); if (w != want) return 0; }
        memcpy(&w, p + n - 8, 8);
        return w == want;
    }
    if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + n - 4, 4);
        return a == (uint32_t)want && b == (uint32_t)want;
    }
    for (int i = 0; i < n; i++) if (p[i] != (upper ? 'X' : 'x')) return 0;
    return 1;
}

/* The next line of the same sender after `line` (len bytes, its last linelen the line itself):
   the sequence digits counted up by one, the check letter moved on by one. */
static void predict(struct member *m, const char *line, int len, uint32_t s, uint32_t q, uint32_t ts) {
    if (q >= 99999999) { m->pred_len = 0; return; }
    if (line != m->pred) memcpy(m->pred, line, len);
    char *b = m->pred + len - linelen, *d = b + 12;
    while (*d == '9') *d-- = '0';
    (*d)++;
    char *c = b + linelen - 2;
    *c = (*c == 'z' || *c == 'Z') ? *c - 25 : *c + 1;
    m->pred_len = len;
    m->pred_s = s;
    m->pred_q = q + 1;
    m->pred_ts = ts;
}

static inline int same_bytes(const char *a, const char *b, int n) { /* n >= 8 */
    uint64_t x, y;
    for (int i = 0; i + 8 <= n; i += 8) {
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        if (x != y) return 0;
    }
    memcpy(&x, a + n - 8, 8);
    memcpy(&y, b + n - 8, 8);
    return x == y;
}

/* The last linelen bytes of a line, b, read by member m at t (us since the start of sending):
   1 and counted if they are a line of the run, 0 (and nothing counted) if not. */
static inline __attribute__((always_inline)) int on_body(struct member *m, const char *line, const char *b, int prefixed, uint32_t t) {
    int upper = b[0] == 'S';
    if ((!upper && b[0] != 's') || b[4] != ' ' || b[13] != ' ' || b[22] != ' ' || b[linelen - 1] != '\n') return 0;
    unsigned d0 = b[1] - '0', d1 = b[2] - '0', d2 = b[3] - '0';
    if (d0 > 9 || d1 > 9 || d2 > 9) return 0;
    uint32_t s = d0 * 100 + d1 * 10 + d2, q, ts;
    if (!parse8(b + 5, &q) || !parse8(b + 14, &ts)) return 0;
    if (!padding_ok(b + 23, linelen - 25, upper)) return 0;
    char c = check_letter(s, q, ts);
    if (b[linelen - 2] != (upper ? c - 32 : c)) return 0;
    if (s >= (uint32_t)nsenders || q > members[s].generated) return 0; /* not sent (yet): bytes of two lines */
    if ((int)s == m->index) {
        if (prefixed) return 0; /* a member is never owed its own line as a delivery */
        echoes++;
        return 1;
    }
    uint32_t pi = (uint32_t)(m->index * nsenders + s);
    struct pair *pr = &pairs[pi];
    if (q == 0) { /* a probe */
        if (pr->next == 0) { pr->next = 1; ready_pairs++; }
        return 1;
    }
    if (q == pr->next) {
        pr->next++;
    } else if (q > pr->next) {
        add_gap(pi, pr->next, q - 1);
        pr->lost += q - pr->next;
        pr->next = q + 1;
    } else if (fill_gap(pi, q)) { /* late: it was counted lost when a later one came */
        pr->lost--;
        pr->reord++;
    } else {
        pr->dup++;
        return 1;
    }
    pr->delivered++;
    delivered_total++;
    record_latency(t, ts);
    predict(m, line, b + linelen - line, s, q, ts);
    return 1;
}

/* One complete line (with its '\n') that the fast paths did not take. */
static void on_line(struct member *m, const char *p, size_t len, uint32_t t) {
    if (len >= (size_t)linelen) {
        const char *b = p + len - linelen;
        if (b == p && on_body(m, p, b, 0, t)) return;
        if (b - p >= 2 && b[-2] == ':' && b[-1] == ' ' && on_body(m, p, b, 1, t)) {
            m->prefix = b - p; /* the next line is likely from the same sender */
            return;
        }
    }
    if (is_notice(p, len)) notices++;
    else malformed++;
}

static inline int no_newline(const char *p, int n) {
    for (int i = 0; i < n; i++) if (p[i] == '\n') return 0;
    return 1;
}

static void drop(struct member *m, const char *why) {
    if (m->state < 0) return;
    if (why) { fail(why); closed++; }
    epoll_ctl(epfd, EPOLL_CTL_DEL, m->fd, NULL);
    close(m->fd);
    m->state = -1;
    open_members--;
}

static void on_read(struct member *m, char *buf) {
    memcpy(buf, m->tail, m->tail_len);
    ssize_t n = read(m->fd, buf + m->tail_len, RBUF - m->tail_len);
    if (n <= 0) {
        if (n < 0 && errno == EAGAIN) return;
        if (n == 0) errno = ECONNRESET;
        drop(m, n == 0 ? "server closed a member" : "read");
        return;
    }
    double tnow = now();
    reads++;
    read_bytes += n;
    uint32_t t = (uint32_t)((tnow - t_send0) * 1e6);
    uint64_t before = delivered_total;
    char *p = buf, *end = buf + m->tail_len + n, *nl;
    int L = linelen, k = m->prefix;
    while (p < end) {
        if (m->skipping) { /* the rest of an overlong line: counted already */
            if (!(nl = memchr(p, '\n', end - p))) break;
            m->skipping = 0;
            p = nl + 1;
            continue;
        }
        /* Fastest: the line expected next, byte for byte. */
        __builtin_prefetch(p + 1024);
        int n = m->pred_len;
        if (n && end - p >= n && same_bytes(p, m->pred, n)) {
            struct pair *pr = &pairs[(size_t)m->index * nsenders + m->pred_s];
            uint32_t q = m->pred_q;
            if (q == pr->next && q <= members[m->pred_s].generated) {
                pr->next++;
                pr->delivered++;
                delivered_total++;
                record_latency(t, m->pred_ts);
                predict(m, m->pred, n, m->pred_s, q, m->pred_ts);
                p += n;
                continue;
            }
        }
        /* Fast paths, no search for the '\n': a bare line, or one behind the prefix this member saw last. */
        if (end - p >= L && p[L - 1] == '\n' && on_body(m, p, p, 0, t)) { p += L; continue; }
        if (k && end - p >= k + L && p[k + L - 1] == '\n' && p[k - 2] == ':' && p[k - 1] == ' ' && no_newline(p, k - 2) &&
            on_body(m, p, p + k, 1, t)) { p += k + L; continue; }
        if (!(nl = memchr(p, '\n', end - p))) break;
        on_line(m, p, nl + 1 - p, t);
        k = m->prefix;
        p = nl + 1;
    }
    size_t rest = end - p;
    if (rest >= TAIL) { /* no line of the run is this long */
        if (!m->skipping) malformed++;
        m->skipping = 1;
        rest = 0;
    }
    memcpy(m->tail, p, rest);
    m->tail_len = rest;
    if (delivered_total != before) t_last_delivery = tnow;
}

static void watch_out(struct member *m, int on) {
    if (m->want_out == on || m->state < 0) return;
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = m};
    epoll_ctl(epfd, EPOLL_CTL_MOD, m->fd, &ev);
    m->want_out = on;
}

static void flush(struct member *m) {
    while (m->out_off < m->out_len) {
        ssize_t n = write(m->fd, m->out + m->out_off, m->out_len - m->out_off);
        if (n < 0) {
            if (errno == EAGAIN) { watch_out(m, 1); return; }
            drop(m, "write");
            return;
        }
        m->out_off += n;
    }
    m->out_off = m->out_len = 0;
    watch_out(m, 0);
}

/* Appends the lines due for sender m up to `due` (as many as fit), then writes. */
static void send_due(struct member *m, uint64_t due, double t) {
    if (m->state != 1 || m->want_out) return; /* the socket is full: the lines wait */
    if (m->out_off > 0) {
        memmove(m->out, m->out + m->out_off, m->out_len - m->out_off);
        m->out_len -= m->out_off;
        m->out_off = 0;
    }
    uint32_t ts = (uint32_t)t;
    while (m->generated < due && m->out_len + linelen <= OUTBUF) {
        format_line(m->out + m->out_len, m->index, (uint32_t)++m->generated, ts);
        m->out_len += linelen;
    }
    flush(m);
}

static void send_probe(struct member *m) {
    if (m->state != 1 || m->out_len + linelen > OUTBUF) return;
    format_line(m->out + m->out_len, m->index, 0, 0);
    m->out_len += linelen;
    flush(m);
}

static int start_connect(struct member *m) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) { fail("socket"); return -1; }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct linger lg = {1, 0}; /* close with a reset: no TIME_WAIT left for the next run */
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    m->fd = fd;
    m->state = 0;
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS) {
        fail("connect");
        close(fd);
        m->state = -1;
        return -1;
    }
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = m};
    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
    open_members++;
    return 0;
}

/* One round of events; `buf` is the shared read buffer. */
static void poll_once(char *buf, int timeout_ms) {
    struct epoll_event evs[256];
    int n = epoll_wait(epfd, evs, 256, timeout_ms);
    for (int i = 0; i < n; i++) {
        struct member *m = evs[i].data.ptr;
        if (m->state < 0) continue;
        if (m->state == 0) {
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(m->fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err) { errno = err; drop(m, "connect"); continue; }
            m->state = 1;
            m->want_out = 1;
            watch_out(m, 0);
            continue;
        }
        if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) on_read(m, buf);
        if (m->state == 1 && (evs[i].events & EPOLLOUT)) flush(m); /* disarms EPOLLOUT once all is out */
    }
}

/* Deliveries still owed: every member, every other sender, lines generated but not yet received. */
static uint64_t owed(void) {
    uint64_t sum = 0;
    for (int i = 0; i < nmembers; i++)
        for (int s = 0; s < nsenders; s++)
            if (s != i) {
                uint64_t got = pairs[(size_t)i * nsenders + s].next - 1;
                if (members[s].generated > got) sum += members[s].generated - got;
            }
    return sum;
}

static int usage(void) {
    fprintf(stderr, "usage: roomgen -a HOST:PORT [-m members] [-s senders] [-r lines/s per sender, 0 = unpaced] [-l line bytes]"
                    " [-d seconds] [-D drain seconds without progress] [-c connects in flight] [-t tick us] [-p server-pid]\n");
    return 1;
}

int main(int argc, char **argv) {
    const char *address = NULL;
    if ((argc - 1) % 2) return usage();
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *o = argv[i], *v = argv[i + 1];
        if (!strcmp(o, "-a")) address = v;
        else if (!strcmp(o, "-m")) nmembers = atoi(v);
        else if (!strcmp(o, "-s")) nsenders = atoi(v);
        else if (!strcmp(o, "-r")) rate = atof(v);
        else if (!strcmp(o, "-l")) linelen = atoi(v);
        else if (!strcmp(o, "-d")) duration = atof(v);
        else if (!strcmp(o, "-D")) drain_quiet = atof(v);
        else if (!strcmp(o, "-c")) inflight = atoi(v);
        else if (!strcmp(o, "-p")) server_pid = atoi(v);
        else if (!strcmp(o, "-t")) tick = atof(v) / 1e6;
        else return usage();
    }
    char host[64];
    const char *colon = address ? strrchr(address, ':') : NULL;
    if (!colon || colon - address >= (long)sizeof host) return usage();
    memcpy(host, address, colon - address);
    host[colon - address] = 0;
    addr.sin_family = AF_INET;
    addr.sin_port = htons(atoi(colon + 1));
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) { fprintf(stderr, "roomgen: %s is not an IPv4 address\n", host); return 1; }
    if (nmembers < 2 || nsenders < 1 || nsenders > nmembers || nsenders > 1000 || linelen < MINLINE || linelen > 200 ||
        rate < 0 || tick <= 0 || duration <= 0 || duration > 90 || drain_quiet <= 0 || inflight < 1) {
        fprintf(stderr, "roomgen: need 2 <= members, 1 <= senders <= min(members, 1000), %d <= line bytes <= 200, 0 < seconds <= 90\n", MINLINE);
        return 1;
    }
    memset(pad_lower, 'x', sizeof pad_lower);
    memset(pad_upper, 'X', sizeof pad_upper);
    memcpy(&pad_word_lower, pad_lower, 8);
    memcpy(&pad_word_upper, pad_upper, 8);
    members = calloc(nmembers, sizeof *members);
    pairs = calloc((size_t)nmembers * nsenders, sizeof *pairs);
    char *buf = malloc(RBUF);
    epfd = epoll_create1(0);
    for (int i = 0; i < nmembers; i++) {
        members[i].index = i;
        members[i].state = -1;
        if (i < nsenders) members[i].out = malloc(OUTBUF);
    }

    /* Connect, at most `inflight` at a time. */
    double deadline = now() + 30;
    int next = 0, connected = 0, pending;
    do {
        pending = connected = 0;
        for (int i = 0; i < next; i++) { pending += members[i].state == 0; connected += members[i].state == 1; }
        while (next < nmembers && pending < inflight) pending += start_connect(&members[next++]) == 0;
        if (pending) poll_once(buf, 10);
    } while (pending && now() < deadline);
    const char *failure = NULL;
    if (connected < nmembers) failure = "not every member connected";

    /* Every sender's probe must reach every other member. */
    uint64_t need = (uint64_t)nsenders * (nmembers - 1);
    double next_probe = 0;
    deadline = now() + 30;
    while (!failure && ready_pairs < need) {
        if (now() > deadline) { failure = "members did not hear every sender's probe within 30 s"; break; }
        if (now() >= next_probe) {
            for (int s = 0; s < nsenders; s++) send_probe(&members[s]);
            next_probe = now() + 0.25;
        }
        poll_once(buf, 10);
        if (open_members < nmembers) { failure = "a member was closed while getting ready"; break; }
    }

    unsigned long long busy0[MAXCPU], total0[MAXCPU], busy1[MAXCPU], total1[MAXCPU];
    int ncores = core_times(busy0, total0);
    double cpu0 = self_cpu(), scpu0 = server_pid ? cpu_of(server_pid) : -1;
    t_send0 = now();
    recording = 1;
    double send_end = t_send0 + duration, t;
    double next_tick = t_send0;
    while (!failure && (t = now()) < send_end) {
        if (t >= next_tick || rate == 0) { /* each tick, every sender writes the lines due so far in one write */
            uint64_t due = rate > 0 ? (uint64_t)((t - t_send0) * rate) : UINT64_MAX;
            double us = (t - t_send0) * 1e6;
            for (int s = 0; s < nsenders; s++) send_due(&members[s], due, us);
            next_tick += tick;
            if (next_tick < t) next_tick = t + tick;
        }
        poll_once(buf, now() >= next_tick ? 0 : 1);
        if (open_members == 0) break;
    }
    if (!failure && rate > 0) { /* the lines due by the end of the period, even if the last tick came late */
        uint64_t due = (uint64_t)(duration * rate);
        for (int s = 0; s < nsenders; s++) send_due(&members[s], due, (now() - t_send0) * 1e6);
    }
    double t_send_end = now();
    /* Drain: the unsent tails are written, then whatever is owed is waited for. */
    uint64_t last_seen = delivered_total;
    double progress = now();
    while (!failure && open_members > 0) {
        for (int s = 0; s < nsenders; s++)
            if (members[s].out_len && !members[s].want_out && members[s].state == 1) flush(&members[s]);
        poll_once(buf, 5);
        t = now();
        if (delivered_total != last_seen) { last_seen = delivered_total; progress = t; }
        if (t - progress > drain_quiet || t - t_send_end > 60) break;
        if (owed() == 0) {
            int unsent = 0;
            for (int s = 0; s < nsenders; s++) unsent += members[s].out_len > 0 && members[s].state == 1;
            if (!unsent) break;
        }
    }
    double t_end = now();
    double cpu = self_cpu() - cpu0;
    double scpu = server_pid && scpu0 >= 0 ? cpu_of(server_pid) - scpu0 : -1;
    if (core_times(busy1, total1) < ncores) ncores = 0;

    uint64_t sent = 0, delivered = 0, lost = 0, dup = 0, reord = 0, lossy_pairs = 0;
    for (int s = 0; s < nsenders; s++) sent += members[s].generated;
    for (int i = 0; i < nmembers; i++)
        for (int s = 0; s < nsenders; s++) {
            if (s == i) continue;
            struct pair *pr = &pairs[(size_t)i * nsenders + s];
            uint64_t got = pr->next ? pr->next - 1 : 0;
            uint64_t short_by = members[s].generated > got ? members[s].generated - got : 0;
            delivered += pr->delivered;
            lost += pr->lost + short_by;
            dup += pr->dup;
            reord += pr->reord;
            lossy_pairs += pr->lost + short_by > 0;
        }
    uint64_t expected = 0;
    for (int s = 0; s < nsenders; s++) expected += members[s].generated * (uint64_t)(nmembers - 1);
    double span = (t_last_delivery > t_send0 ? t_last_delivery : t_end) - t_send0;
    double send_secs = rate > 0 ? duration : t_send_end - t_send0; /* paced: the lines of exactly -d seconds were due */
    printf("{\"generator\":\"roomgen\",\"members\":%d,\"senders\":%d,\"rate\":%.0f,\"lineBytes\":%d,\"sendSeconds\":%.3f,"
           "\"offeredPerSecond\":%.0f,\"sent\":%lu,\"sentPerSecond\":%.0f,\"expected\":%lu,\"delivered\":%lu,"
           "\"lost\":%lu,\"duplicated\":%lu,\"reordered\":%lu,\"malformed\":%lu,\"pairsWithLoss\":%lu,\"echoes\":%lu,\"notices\":%lu,"
           "\"seconds\":%.3f,\"deliveriesPerSecond\":%.0f,\"drainSeconds\":%.3f,"
           "\"latency\":{\"p50\":%.0f,\"p99\":%.0f,\"p999\":%.0f},"
           "\"clientCpuSeconds\":%.3f,\"clientCores\":%.3f,\"clientMicrosecondsPerDelivery\":%.4f,",
           nmembers, nsenders, rate, linelen, send_secs, rate * nsenders * (nmembers - 1), sent, sent / send_secs, expected, delivered,
           lost, dup, reord, malformed, lossy_pairs, echoes, notices, span, span > 0 ? delivered / span : 0, t_end - t_send_end,
           percentile(0.5), percentile(0.99), percentile(0.999), cpu, cpu / (t_end - t_send0),
           delivered ? cpu * 1e6 / delivered : 0);
    if (scpu >= 0)
        printf("\"serverCpuSeconds\":%.3f,\"serverCores\":%.3f,\"serverMicrosecondsPerDelivery\":%.4f,", scpu, scpu / (t_end - t_send0),
               delivered ? scpu * 1e6 / delivered : 0);
    printf("\"coreBusy\":[");
    for (int c = 0; c < ncores; c++)
        printf("%s%.3f", c ? "," : "", total1[c] > total0[c] ? (double)(busy1[c] - busy0[c]) / (total1[c] - total0[c]) : 0);
    printf("],");
    printf("\"reads\":%lu,\"bytesPerRead\":%.0f,\"gapsUntracked\":%lu,\"closedMembers\":%lu,\"errors\":%lu,\"firstError\":\"%s\",\"failure\":%s%s%s}\n", reads, reads ? (double)read_bytes / reads : 0, gaps_untracked, closed, errors, first_error,
           failure ? "\"" : "", failure ? failure : "null", failure ? "\"" : "");
    return failure ? 1 : 0;
}
