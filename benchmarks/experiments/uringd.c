/*
 * uringd: upperd (benchmarks/c/upperd.c) on io_uring instead of epoll, to measure what batching the
 * system calls can save on this kernel: one thread, one ring (single issuer, deferred task work),
 * a multishot accept, and per connection one recv or one send in flight; every pass of the loop
 * submits everything prepared and reaps every completion in one io_uring_enter. A 4 KiB buffer per
 * connection (no provided buffers: an experiment, not a server). Raw system calls, no liburing.
 *
 *   cc -O2 -o benchmarks/.out/uringd benchmarks/experiments/uringd.c && benchmarks/.out/uringd [PORT]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdatomic.h>

#define QD 4096
#define BUFSZ 4096
static int ring_fd;
static unsigned *sq_head, *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
static struct io_uring_sqe *sqes;
static struct io_uring_cqe *cqes;
static unsigned pending;
struct conn { int fd; char buf[BUFSZ]; int len; };

static struct io_uring_sqe *get_sqe(void) {
    unsigned tail = *sq_tail;
    unsigned idx = tail & *sq_mask;
    struct io_uring_sqe *s = &sqes[idx];
    memset(s, 0, sizeof *s);
    sq_array[idx] = idx;
    atomic_store_explicit((_Atomic unsigned *)sq_tail, tail + 1, memory_order_release);
    pending++;
    return s;
}
static void prep_recv(struct conn *c) {
    struct io_uring_sqe *s = get_sqe();
    s->opcode = IORING_OP_RECV; s->fd = c->fd; s->addr = (unsigned long)c->buf; s->len = BUFSZ; s->user_data = (unsigned long)c;
}
static void prep_send(struct conn *c) {
    struct io_uring_sqe *s = get_sqe();
    s->opcode = IORING_OP_SEND; s->fd = c->fd; s->addr = (unsigned long)c->buf; s->len = c->len; s->user_data = (unsigned long)c | 1;
}
static void prep_accept(int lfd) {
    struct io_uring_sqe *s = get_sqe();
    s->opcode = IORING_OP_ACCEPT; s->fd = lfd; s->ioprio = IORING_ACCEPT_MULTISHOT; s->user_data = 2;
}
int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 8080;
    int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (bind(lfd, (void *)&a, sizeof a) || listen(lfd, 4096)) { perror("bind"); return 1; }
    struct io_uring_params p = {0};
    p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE;
    p.cq_entries = QD * 4;
    ring_fd = syscall(__NR_io_uring_setup, QD, &p);
    if (ring_fd < 0) { perror("setup"); return 1; }
    size_t sqsz = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    size_t cqsz = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    char *sq = mmap(0, sqsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd, IORING_OFF_SQ_RING);
    char *cq = mmap(0, cqsz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd, IORING_OFF_CQ_RING);
    sqes = mmap(0, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd, IORING_OFF_SQES);
    sq_head = (void *)(sq + p.sq_off.head); sq_tail = (void *)(sq + p.sq_off.tail); sq_mask = (void *)(sq + p.sq_off.ring_mask); sq_array = (void *)(sq + p.sq_off.array);
    cq_head = (void *)(cq + p.cq_off.head); cq_tail = (void *)(cq + p.cq_off.tail); cq_mask = (void *)(cq + p.cq_off.ring_mask); cqes = (void *)(cq + p.cq_off.cqes);
    prep_accept(lfd);
    long enters = 0, msgs = 0;
    for (;;) {
        int r = syscall(__NR_io_uring_enter, ring_fd, pending, 1, IORING_ENTER_GETEVENTS, NULL, 0);
        enters++;
        if (r < 0 && errno != EINTR) { perror("enter"); return 1; }
        pending = 0;
        unsigned head = *cq_head, tail = atomic_load_explicit((_Atomic unsigned *)cq_tail, memory_order_acquire);
        for (; head != tail; head++) {
            struct io_uring_cqe *e = &cqes[head & *cq_mask];
            unsigned long ud = e->user_data; int res = e->res;
            if (ud == 2) {
                if (res >= 0) { struct conn *c = calloc(1, sizeof *c); c->fd = res; prep_recv(c); }
                if (!(e->flags & IORING_CQE_F_MORE)) prep_accept(lfd);
            } else if (ud & 1) {
                struct conn *c = (void *)(ud & ~1UL);
                if (res < 0) { close(c->fd); free(c); }
                else if (res < c->len) { memmove(c->buf, c->buf + res, c->len - res); c->len -= res; prep_send(c); }
                else prep_recv(c);
            } else {
                struct conn *c = (void *)ud;
                if (res <= 0) { close(c->fd); free(c); continue; }
                for (int i = 0; i < res; i++) if ((unsigned char)(c->buf[i] - 'a') < 26) c->buf[i] -= 32;
                c->len = res; msgs++; prep_send(c);
            }
        }
        atomic_store_explicit((_Atomic unsigned *)cq_head, head, memory_order_release);
    }
}
