/* relayd: a one-thread C epoll TCP forwarder, the reference for what a proxy hop costs on one core
 * (benchmarks/proxy runs it beside `shout proxy` and socat). Not a product: no toxics, no API.
 *
 *   relayd LISTEN_PORT UPSTREAM_PORT      (both on 127.0.0.1)
 *
 * Level-triggered epoll. Each connection is a pair of sockets and a 16 KiB buffer per direction:
 * read what a side has, write it to the other; when the other does not take it all, stop reading
 * that side and wait for the other to be writable (backpressure, nothing held beyond the buffer).
 * A FIN read is forwarded as a shutdown of the write side; a reset or error closes both.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHUNK 16384

struct side;
struct dir { char buf[CHUNK]; size_t off, len; int eof; };
struct pair { int fd[2]; struct dir dir[2]; int closed; }; /* dir[i]: read from fd[i], write to fd[1-i] */
struct side { struct pair *p; int i; };

static int ep;

static void die(const char *what) { perror(what); exit(1); }

static void interest(struct pair *p, int i, struct side *s)
{
    /* fd[i]: readable wanted when its direction's buffer is empty and it has not ended;
     * writable wanted when the other direction holds bytes for it. */
    struct epoll_event ev = { 0 };
    if (p->dir[i].len == 0 && !p->dir[i].eof) ev.events |= EPOLLIN;
    if (p->dir[1 - i].len > 0) ev.events |= EPOLLOUT;
    ev.data.ptr = s;
    epoll_ctl(ep, EPOLL_CTL_MOD, p->fd[i], &ev);
}

/* Pairs closed during a batch of events, freed after it: the batch may still name them. */
static struct side *grave[256];
static int graves;

static void finish(struct side *sides)
{
    struct pair *p = sides[0].p;
    if (p->closed) return;
    p->closed = 1;
    close(p->fd[0]);
    close(p->fd[1]);
    grave[graves++] = sides;
}

static int nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Sends what direction i holds to fd[1-i]; 0 when all went, 1 when the socket is full, -1 on error. */
static int flush(struct pair *p, int i)
{
    struct dir *d = &p->dir[i];
    while (d->len > 0) {
        ssize_t n = send(p->fd[1 - i], d->buf + d->off, d->len, MSG_NOSIGNAL);
        if (n < 0) return errno == EAGAIN ? 1 : -1;
        d->off += (size_t)n;
        d->len -= (size_t)n;
    }
    d->off = 0;
    if (d->eof) shutdown(p->fd[1 - i], SHUT_WR);
    return 0;
}

static void on_event(struct side *s, uint32_t events)
{
    struct pair *p = s->p;
    int i = s->i;
    struct side *sides = s - i;
    if (p->closed) return;
    if (events & EPOLLOUT) {
        if (flush(p, 1 - i) < 0) { finish(sides); return; }
    }
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && p->dir[i].len == 0 && !p->dir[i].eof) {
        ssize_t n = recv(p->fd[i], p->dir[i].buf, CHUNK, 0);
        if (n < 0 && errno != EAGAIN) { finish(sides); return; }
        if (n == 0) p->dir[i].eof = 1;
        if (n > 0) p->dir[i].len = (size_t)n;
        if (n >= 0 && flush(p, i) < 0) { finish(sides); return; }
    }
    if (p->dir[0].eof && p->dir[1].eof && p->dir[0].len == 0 && p->dir[1].len == 0) { finish(sides); return; }
    interest(p, 0, &sides[0]);
    interest(p, 1, &sides[1]);
}

int main(int argc, char **argv)
{
    if (argc != 3) { fprintf(stderr, "usage: relayd LISTEN_PORT UPSTREAM_PORT\n"); return 2; }
    signal(SIGPIPE, SIG_IGN);
    struct sockaddr_in la = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct sockaddr_in ua = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lfd, (struct sockaddr *)&la, sizeof la) < 0 || listen(lfd, 512) < 0) die("listen");
    ep = epoll_create1(0);
    struct epoll_event lev = { .events = EPOLLIN, .data.ptr = NULL };
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        if (n < 0 && errno != EINTR) die("epoll_wait");
        for (int k = 0; k < n; k++) {
            if (evs[k].data.ptr == NULL) {
                int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
                if (c < 0) continue;
                /* The upstream connect is blocking (loopback): simple, and not what is measured. */
                int u = socket(AF_INET, SOCK_STREAM, 0);
                if (connect(u, (struct sockaddr *)&ua, sizeof ua) < 0) { close(c); close(u); continue; }
                int fl = 1;
                setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &fl, sizeof fl);
                setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &fl, sizeof fl);
                if (nonblocking(u) < 0) { close(c); close(u); continue; }
                struct pair *p = calloc(1, sizeof *p);
                struct side *sides = calloc(2, sizeof *sides);
                p->fd[0] = c;
                p->fd[1] = u;
                sides[0] = (struct side){ p, 0 };
                sides[1] = (struct side){ p, 1 };
                struct epoll_event e0 = { .events = EPOLLIN, .data.ptr = &sides[0] };
                struct epoll_event e1 = { .events = EPOLLIN, .data.ptr = &sides[1] };
                epoll_ctl(ep, EPOLL_CTL_ADD, c, &e0);
                epoll_ctl(ep, EPOLL_CTL_ADD, u, &e1);
            } else {
                on_event(evs[k].data.ptr, evs[k].events);
            }
        }
        for (; graves > 0; graves--) {
            free(grave[graves - 1]->p);
            free(grave[graves - 1]);
        }
    }
}
