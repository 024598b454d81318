/* sockmap-relay: an experiment, not a product. A TCP forwarder whose bytes never reach user space:
 * each accepted connection and its upstream connection go into a BPF sockhash (keyed by socket
 * cookie) whose stream-verdict program redirects every segment a socket receives to the send side
 * of its peer (bpf_sk_redirect_hash). The process only accepts, connects and fills the map.
 * docs/benchmarks.md ("shout proxy: forwarding cost") has what it measured and why `shout proxy`
 * does not do this yet. Needs root (BPF) and a kernel with CONFIG_BPF_STREAM_PARSER.
 *
 *   cc -O2 -o benchmarks/.out/sockmap-relay benchmarks/experiments/sockmap-relay.c
 *   benchmarks/experiments/sockmap      (builds it and measures it beside relayd)
 *
 * What it lacks, each a reason it is not in the product: a FIN is not forwarded (the kernel
 * redirects data, not the close; forwarding it needs to know the peer's queue has drained); a
 * closed pair's descriptors are not closed; and nothing bounds what the kernel queues for a peer
 * that does not read (the redirect queue is not charged to any socket's buffer).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static long bpf(int cmd, union bpf_attr *a) { return syscall(__NR_bpf, cmd, a, sizeof *a); }
static void die(const char *w) { perror(w); exit(1); }

#define INS(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

int main(int argc, char **argv)
{
    if (argc != 3) { fprintf(stderr, "usage: sockmap-relay LISTEN_PORT UPSTREAM_PORT\n"); return 2; }
    signal(SIGPIPE, SIG_IGN);
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.map_type = BPF_MAP_TYPE_SOCKHASH; a.key_size = 8; a.value_size = 8; a.max_entries = 65536;
    int map = bpf(BPF_MAP_CREATE, &a);
    if (map < 0) die("map");
    struct bpf_insn prog[] = {
        INS(BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0),          // r6 = ctx
        INS(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_get_socket_cookie),
        INS(BPF_STX | BPF_MEM | BPF_DW, 10, 0, -8, 0),         // *(u64*)(r10-8) = r0
        INS(BPF_ALU64 | BPF_MOV | BPF_X, 1, 6, 0, 0),          // r1 = ctx
        INS(BPF_LD | BPF_DW | BPF_IMM, 2, BPF_PSEUDO_MAP_FD, 0, map), INS(0, 0, 0, 0, 0),
        INS(BPF_ALU64 | BPF_MOV | BPF_X, 3, 10, 0, 0),
        INS(BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, -8),
        INS(BPF_ALU64 | BPF_MOV | BPF_K, 4, 0, 0, 0),
        INS(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_sk_redirect_hash),
        INS(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
    };
    char log[65536];
    memset(&a, 0, sizeof a);
    a.prog_type = BPF_PROG_TYPE_SK_SKB; a.insns = (uint64_t)(uintptr_t)prog; a.insn_cnt = sizeof prog / sizeof prog[0];
    a.license = (uint64_t)(uintptr_t)"GPL"; a.log_buf = (uint64_t)(uintptr_t)log; a.log_size = sizeof log; a.log_level = 1;
    int pfd = bpf(BPF_PROG_LOAD, &a);
    if (pfd < 0) { fprintf(stderr, "%s\n", log); die("prog"); }
    memset(&a, 0, sizeof a);
    a.target_fd = map; a.attach_bpf_fd = pfd; a.attach_type = BPF_SK_SKB_VERDICT;
    if (bpf(BPF_PROG_ATTACH, &a) < 0) die("attach");
    struct sockaddr_in la = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct sockaddr_in ua = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lfd, (struct sockaddr *)&la, sizeof la) < 0 || listen(lfd, 512) < 0) die("listen");
    for (;;) {
        int c = accept(lfd, NULL, NULL);
        if (c < 0) continue;
        int u = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(u, (struct sockaddr *)&ua, sizeof ua) < 0) { close(c); close(u); continue; }
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        uint64_t kc, ku; socklen_t l = 8;
        getsockopt(c, SOL_SOCKET, SO_COOKIE, &kc, &l); l = 8;
        getsockopt(u, SOL_SOCKET, SO_COOKIE, &ku, &l);
        uint64_t vu = u, vc = c;
        memset(&a, 0, sizeof a); a.map_fd = map; a.key = (uint64_t)(uintptr_t)&kc; a.value = (uint64_t)(uintptr_t)&vu; a.flags = BPF_ANY;
        if (bpf(BPF_MAP_UPDATE_ELEM, &a) < 0) perror("update c");
        memset(&a, 0, sizeof a); a.map_fd = map; a.key = (uint64_t)(uintptr_t)&ku; a.value = (uint64_t)(uintptr_t)&vc; a.flags = BPF_ANY;
        if (bpf(BPF_MAP_UPDATE_ELEM, &a) < 0) perror("update u");
        /* Bytes that arrived before the socket joined the map wait in its receive queue until the
         * next arrival; setting SO_RCVLOWAT runs the socket's data-ready callback, which hands
         * them to the verdict program now, in order. */
        setsockopt(c, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof one);
        setsockopt(u, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof one);
        /* prototype: fds leak on close; fine for a benchmark of steady connections */
    }
}
