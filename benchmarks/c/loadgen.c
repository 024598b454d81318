/*
 * loadgen: an independent load generator for uppercasing servers (Shout, the tutorial's Go
 * server, c/upperd). One thread, one epoll set, no dependency on the server under test.
 *
 *   loadgen pingpong -a 127.0.0.1:8080 -c 50 -d 5 [-w 2] [-p SERVER_PID]
 *   loadgen stream   -a 127.0.0.1:8080 -c 50 -d 5 [-w 2] [-p SERVER_PID]
 *   loadgen hold     -a 127.0.0.1:8080 -c 10000 [-r 5000] [-d 2] [-p SERVER_PID]
 *   loadgen count    -a 127.0.0.1:8080 -c 50 -n 200000        (a fixed number of messages)
 *
 * pingpong: every connection sends a fixed 32-byte message (31 lowercase letters and '\n') and
 * waits for its reply, which must be the same bytes uppercased, byte for byte; then sends again.
 * count: pingpong until exactly -n replies (for counting system calls per message).
 * stream: every connection writes 16 KiB chunks of lowercase letters continuously and reads
 * whatever comes back; every byte received is checked against the uppercase of what was sent at
 * that offset. MB/s counts reply bytes (10^6).
 * hold: opens -c connections at -r per second, sends one message on each, checks its reply, then
 * holds them all for -d seconds. With -p it warms the server up (3 rounds of 1000 short
 * connections), reads its VmRSS before and while holding, and reports bytes per connection.
 *
 * With -p the server's CPU (utime+stime of /proc/PID/stat) over the measured interval is reported
 * per message. Output: one JSON object on stdout. Exit 2 if any reply was wrong, 1 on errors.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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

#define MSG 32
#define CHUNK 16384
#define PAT (26 * 630) /* 16380: a whole number of alphabets, so the pattern wraps seamlessly */
#define HBUCKETS 200000 /* latency histogram: 1 us buckets up to 200 ms, then one overflow bucket */

enum mode { PINGPONG, STREAM, HOLD, COUNT };

struct conn {
    int fd;
    int connected;
    int have;      /* pingpong: reply bytes received for the message in flight */
    int sent;      /* pingpong: bytes of the message written */
    int answered;  /* hold: reply complete */
    uint64_t tx, rx; /* stream: total bytes written / read */
    double t0;     /* pingpong: when the message in flight was sent */
};

static enum mode mode;
static struct sockaddr_in addr;
static int nconn = 50, server_pid = 0;
static double duration = 5, warmup = 2, rate = 5000;
static long target_msgs = 0;
static uint64_t mismatches, errors, messages, rxbytes, hist[HBUCKETS + 1];
static int measuring, epfd;
static char first_error[256];
static const char msg[MSG + 1] = "abcdefghijklmnopqrstuvwxyzabcde\n";
static char upper_msg[MSG];
static char pat[2 * PAT + CHUNK], upper_pat[2 * PAT + CHUNK];

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
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the command name may contain spaces */
    if (!p) return 0;
    unsigned long ut = 0, st = 0;
    /* after ")": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15) */
    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st);
    return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

static long rss_of(int pid) { /* VmRSS in bytes */
    char path[64], line[256];
    long kb = -1;
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1) break;
    fclose(f);
    return kb * 1024;
}

static double self_cpu(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int open_conn(struct conn *c, int blocking_connect) {
    c->fd = -1;
    int fd = socket(AF_INET, SOCK_STREAM | (blocking_connect ? 0 : SOCK_NONBLOCK), 0);
    if (fd < 0) { fail("socket"); return -1; }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* Closing resets (no TIME_WAIT left behind for the next run). */
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    memset(c, 0, sizeof *c);
    c->fd = fd;
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS) {
        fail("connect");
        close(fd);
        c->fd = -1;
        return -1;
    }
    if (blocking_connect) {
        fcntl(fd, F_SETFL, O_NONBLOCK);
        c->connected = 1;
    }
    return 0;
}

static void watch(struct conn *c, uint32_t events, int op) {
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (epoll_ctl(epfd, op, c->fd, &ev) < 0) fail("epoll_ctl");
}

static int alive; /* connections open (pingpong, stream, count) */

static void drop(struct conn *c) {
    alive--;
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
}

/* pingpong: write (the rest of) the message; 0 when all of it is out. */
static int send_msg(struct conn *c) {
    if (c->sent == 0) c->t0 = now();
    while (c->sent < MSG) {
        ssize_t n = write(c->fd, msg + c->sent, MSG - c->sent);
        if (n < 0) {
            if (errno == EAGAIN) return 1;
            fail("write");
            drop(c);
            return -1;
        }
        c->sent += n;
    }
    return 0;
}

static void on_pingpong(struct conn *c, uint32_t ev) {
    if (ev & EPOLLOUT) { /* only watched while a message is partly written */
        if (send_msg(c) == 0) watch(c, EPOLLIN, EPOLL_CTL_MOD);
        return;
    }
    char buf[MSG];
    ssize_t n = read(c->fd, buf, MSG - c->have);
    if (n <= 0) {
        if (n < 0 && errno == EAGAIN) return;
        if (n == 0) errno = ECONNRESET;
        fail(n == 0 ? "server closed" : "read");
        drop(c);
        return;
    }
    if (memcmp(buf, upper_msg + c->have, n) != 0) mismatches++;
    c->have += n;
    if (c->have < MSG) return;
    if (measuring) {
        messages++;
        long us = (long)((now() - c->t0) * 1e6);
        hist[us < HBUCKETS ? us : HBUCKETS]++;
    }
    c->have = c->sent = 0;
    if (mode == HOLD) { c->answered = 1; return; }
    if (target_msgs && (long)messages >= target_msgs) return; /* count mode: stop this connection */
    int r = send_msg(c);
    if (r == 1) watch(c, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
}

static void on_stream(struct conn *c, uint32_t ev) {
    if (ev & EPOLLIN) {
        char buf[CHUNK];
        ssize_t n = read(c->fd, buf, CHUNK);
        if (n > 0) {
            if (memcmp(buf, upper_pat + c->rx % PAT, n) != 0) mismatches++;
            c->rx += n;
            if (measuring) rxbytes += n;
        } else if (n == 0 || errno != EAGAIN) {
            if (n == 0) errno = ECONNRESET;
            fail(n == 0 ? "server closed" : "read");
            drop(c);
            return;
        }
    }
    if (ev & EPOLLOUT) {
        ssize_t n = write(c->fd, pat + c->tx % PAT, CHUNK);
        if (n > 0) c->tx += n;
        else if (n < 0 && errno != EAGAIN) { fail("write"); drop(c); }
    }
}

static void run_events(struct conn *conns, double until) {
    (void)conns;
    struct epoll_event evs[256];
    while (now() < until) {
        int n = epoll_wait(epfd, evs, 256, 10);
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c->fd < 0) continue;
            if (mode == STREAM) on_stream(c, evs[i].events);
            else on_pingpong(c, evs[i].events);
        }
        if (target_msgs && (long)messages >= target_msgs) return;
        if (alive <= 0) return; /* every connection failed: nothing left to measure */
    }
}

static double percentile(double p) {
    uint64_t total = 0, seen = 0;
    for (int i = 0; i <= HBUCKETS; i++) total += hist[i];
    if (!total) return 0;
    for (int i = 0; i <= HBUCKETS; i++) {
        seen += hist[i];
        if (seen >= (uint64_t)(p * total + 0.5) && seen) return i;
    }
    return HBUCKETS;
}

/* hold: open n connections at `rate` per second, one message each, wait until all answered. */
static int open_held(struct conn *conns, int n, double *elapsed) {
    double start = now();
    int opened = 0, answered = 0;
    struct epoll_event evs[256];
    while (answered < n && now() - start < 60) {
        int due = (int)((now() - start) * rate) + 1;
        while (opened < n && opened < due) {
            if (open_conn(&conns[opened], 0) == 0) watch(&conns[opened], EPOLLOUT, EPOLL_CTL_ADD);
            else conns[opened].answered = -1;
            opened++;
        }
        int k = epoll_wait(epfd, evs, 256, 1);
        for (int i = 0; i < k; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c->fd < 0) continue;
            if (!c->connected) {
                int err = 0;
                socklen_t len = sizeof err;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err) { errno = err; fail("connect"); drop(c); continue; }
                c->connected = 1;
                watch(c, EPOLLIN, EPOLL_CTL_MOD);
                if (send_msg(c) == 1) watch(c, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
                continue;
            }
            on_pingpong(c, evs[i].events);
        }
        answered = 0;
        for (int i = 0; i < opened; i++) answered += conns[i].answered != 0 || conns[i].fd < 0;
    }
    *elapsed = now() - start;
    int ok = 0;
    for (int i = 0; i < n; i++) ok += conns[i].answered == 1;
    return ok;
}

static void close_all(struct conn *conns, int n) {
    for (int i = 0; i < n; i++)
        if (conns[i].fd >= 0) drop(&conns[i]);
}

static int usage(void) {
    fprintf(stderr, "usage: loadgen pingpong|stream|hold|count -a HOST:PORT [-c conns] [-d secs] [-w warmup secs] [-r connects/s] [-n messages] [-p server-pid]\n");
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 2) return usage();
    if (!strcmp(argv[1], "pingpong")) mode = PINGPONG;
    else if (!strcmp(argv[1], "stream")) mode = STREAM;
    else if (!strcmp(argv[1], "hold")) mode = HOLD;
    else if (!strcmp(argv[1], "count")) mode = COUNT;
    else return usage();
    const char *address = "127.0.0.1:8080";
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *o = argv[i], *v = argv[i + 1];
        if (!strcmp(o, "-a")) address = v;
        else if (!strcmp(o, "-c")) nconn = atoi(v);
        else if (!strcmp(o, "-d")) duration = atof(v);
        else if (!strcmp(o, "-w")) warmup = atof(v);
        else if (!strcmp(o, "-r")) rate = atof(v);
        else if (!strcmp(o, "-n")) target_msgs = atol(v);
        else if (!strcmp(o, "-p")) server_pid = atoi(v);
        else return usage();
    }
    if ((argc - 2) % 2) return usage();
    char host[64];
    const char *colon = strrchr(address, ':');
    if (!colon || colon - address >= (long)sizeof host) return usage();
    memcpy(host, address, colon - address);
    host[colon - address] = 0;
    addr.sin_family = AF_INET;
    addr.sin_port = htons(atoi(colon + 1));
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) { fprintf(stderr, "loadgen: %s is not an IPv4 address\n", host); return 1; }
    if (nconn < 1 || duration <= 0) return usage();

    for (int i = 0; i < MSG; i++) upper_msg[i] = (msg[i] >= 'a' && msg[i] <= 'z') ? msg[i] - 32 : msg[i];
    for (size_t i = 0; i < sizeof pat; i++) { pat[i] = 'a' + i % 26; upper_pat[i] = 'A' + i % 26; }

    struct conn *conns = calloc(nconn, sizeof *conns);
    epfd = epoll_create1(0);
    double cpu0 = 0, scpu0 = 0, t0 = 0, t1;
    long rss0 = 0, rss1 = 0;
    int held = 0;
    double connect_secs = 0;

    if (mode == HOLD) {
        if (server_pid) {
            /* Warm up (code paths compiled, pools filled) so one-time costs are not counted per connection. */
            int w = nconn < 1000 ? nconn : 1000;
            struct conn *warm = calloc(w, sizeof *warm);
            for (int round = 0; round < 3; round++) {
                double e;
                open_held(warm, w, &e);
                close_all(warm, w);
            }
            free(warm);
            usleep(500000);
            rss0 = rss_of(server_pid);
            cpu0 = cpu_of(server_pid);
        }
        scpu0 = self_cpu();
        held = open_held(conns, nconn, &connect_secs);
        double hold_until = now() + duration;
        usleep(300000);
        if (server_pid) rss1 = rss_of(server_pid);
        while (now() < hold_until) usleep(10000);
        t1 = now();
        messages = held;
        double scpu = cpu0 ? cpu_of(server_pid) - cpu0 : 0;
        close_all(conns, nconn);
        printf("{\"mode\":\"hold\",\"connections\":%d,\"held\":%d,\"connectSeconds\":%.3f,\"connectsPerSecond\":%.0f,"
               "\"serverRssBefore\":%ld,\"serverRssHeld\":%ld,\"bytesPerConnection\":%.0f,"
               "\"serverCpuMicrosecondsPerConnection\":%.1f,\"generatorCpuSeconds\":%.3f,\"mismatches\":%lu,\"errors\":%lu,\"firstError\":\"%s\"}\n",
               nconn, held, connect_secs, held / connect_secs, rss0, rss1,
               server_pid && held ? (double)(rss1 - rss0) / held : 0, held ? scpu * 1e6 / held : 0,
               self_cpu() - scpu0, mismatches, errors, first_error);
        (void)t1;
        return mismatches ? 2 : (errors || held < nconn) ? 1 : 0;
    }

    for (int i = 0; i < nconn; i++) {
        if (open_conn(&conns[i], 1) < 0) { conns[i].fd = -1; continue; }
        alive++;
        if (mode == STREAM) watch(&conns[i], EPOLLIN | EPOLLOUT, EPOLL_CTL_ADD);
        else {
            watch(&conns[i], EPOLLIN, EPOLL_CTL_ADD);
            if (send_msg(&conns[i]) == 1) watch(&conns[i], EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
        }
    }
    if (mode == COUNT) {
        measuring = 1;
        t0 = now();
        scpu0 = self_cpu();
        if (server_pid) cpu0 = cpu_of(server_pid);
        run_events(conns, t0 + 600);
    } else {
        run_events(conns, now() + warmup);
        measuring = 1;
        t0 = now();
        scpu0 = self_cpu();
        if (server_pid) cpu0 = cpu_of(server_pid);
        run_events(conns, t0 + duration);
    }
    t1 = now();
    measuring = 0;
    double gcpu = self_cpu() - scpu0;
    double scpu = server_pid ? cpu_of(server_pid) - cpu0 : 0;
    double secs = t1 - t0;
    uint64_t units = mode == STREAM ? rxbytes / CHUNK : messages; /* stream: per 16 KiB of reply */
    close_all(conns, nconn);
    printf("{\"mode\":\"%s\",\"connections\":%d,\"seconds\":%.3f,\"messages\":%lu,\"messagesPerSecond\":%.0f,"
           "\"megabytesPerSecond\":%.1f,\"p50us\":%.0f,\"p99us\":%.0f,"
           "\"serverCpuMicrosecondsPerMessage\":%.2f,\"generatorCpuMicrosecondsPerMessage\":%.2f,"
           "\"mismatches\":%lu,\"errors\":%lu,\"firstError\":\"%s\"}\n",
           argv[1], nconn, secs, units, units / secs, (mode == STREAM ? rxbytes : messages * MSG) / secs / 1e6,
           percentile(0.5), percentile(0.99), units ? scpu * 1e6 / units : 0, units ? gcpu * 1e6 / units : 0,
           mismatches, errors, first_error);
    return mismatches ? 2 : errors ? 1 : 0;
}
