/*
 * upperd: the smallest fast uppercase server, the row that shows what one core can do.
 * One thread, one epoll set (level-triggered), nonblocking sockets. Read into one buffer shared by
 * every connection, uppercase ASCII letters in place, write back. Nothing is held for an idle
 * connection but its descriptor; only a reply the kernel would not take at once is copied to a
 * buffer of its own (and reading from that connection stops until it is written).
 * Same protocol as Shout's stream mode for ASCII input; bytes >= 0x80 pass through unchanged.
 *
 *   upperd [PORT]      (default 8080, listens on 0.0.0.0)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

struct pending { /* the unsent rest of a reply */
    size_t len, off;
    char data[];
};

struct conn {
    int fd;
    struct pending *out;
};

static int epfd;
static char buf[65536];

static void closeconn(struct conn *c) {
    close(c->fd); /* also removes it from the epoll set */
    free(c->out);
    free(c);
}

static void watch(struct conn *c, uint32_t events, int op) {
    struct epoll_event ev = {.events = events, .data.ptr = c};
    epoll_ctl(epfd, op, c->fd, &ev);
}

/* Writes the pending rest; 1 when everything is out, 0 when it must wait, -1 on error. */
static int flush_pending(struct conn *c) {
    while (c->out->off < c->out->len) {
        ssize_t n = write(c->fd, c->out->data + c->out->off, c->out->len - c->out->off);
        if (n < 0) return errno == EAGAIN ? 0 : -1;
        c->out->off += n;
    }
    free(c->out);
    c->out = NULL;
    return 1;
}

static void on_readable(struct conn *c) {
    ssize_t n = read(c->fd, buf, sizeof buf);
    if (n <= 0) {
        if (n < 0 && errno == EAGAIN) return;
        closeconn(c); /* end of input (everything read was answered) or an error */
        return;
    }
    for (ssize_t i = 0; i < n; i++)
        if ((unsigned char)(buf[i] - 'a') < 26) buf[i] -= 32;
    ssize_t off = 0;
    while (off < n) {
        ssize_t w = write(c->fd, buf + off, n - off);
        if (w < 0) {
            if (errno != EAGAIN) { closeconn(c); return; }
            c->out = malloc(sizeof *c->out + (n - off));
            c->out->len = n - off;
            c->out->off = 0;
            memcpy(c->out->data, buf + off, n - off);
            watch(c, EPOLLOUT, EPOLL_CTL_MOD); /* stop reading until the client takes its replies */
            return;
        }
        off += w;
    }
}

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 8080;
    signal(SIGPIPE, SIG_IGN);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 4096) < 0) {
        perror("upperd: listen");
        return 1;
    }
    epfd = epoll_create1(0);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev);
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(epfd, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    c = calloc(1, sizeof *c);
                    c->fd = fd;
                    watch(c, EPOLLIN, EPOLL_CTL_ADD);
                }
                continue;
            }
            if (c->out) {
                int r = flush_pending(c);
                if (r < 0) closeconn(c);
                else if (r > 0) watch(c, EPOLLIN, EPOLL_CTL_MOD);
            } else if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                on_readable(c);
            }
        }
    }
}
