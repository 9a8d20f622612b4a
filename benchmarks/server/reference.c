/*
 * reference.c - the loopback ceiling for the server benchmark.
 *
 * A minimal, single-threaded, level-triggered epoll HTTP/1.1 "server" written only to measure
 * what one core can do on this machine's loopback with the same I/O pattern as ours: one read
 * per readiness event, every complete request in that read answered, and all the answers of
 * one read sent with one write(). It is a ceiling, not a server: a request is anything that
 * ends in "\r\n\r\n" (GET only, no bodies are expected, nothing is parsed), and every request
 * gets the same response, whatever its method or path.
 *
 * The response has the bytes our server sends for request.Response(text='Hello world!'):
 * status line, Content-Type (text/plain with the charset our text responses carry),
 * Content-Length, Date (refreshed at most once a second, when the loop wakes up in a new
 * second, so formatting it costs nothing per request) and an 8-character Server value like
 * "japronto", so that both servers move the same number of bytes per response.
 *
 * Invariants: a connection's read buffer holds only the start of a request that is not yet
 * complete (complete requests are answered and dropped right after each read); a connection
 * with unwritten output is not read from (it waits for EPOLLOUT), so a client that does not
 * read its responses cannot make us buffer without bound.
 *
 * Usage: reference [PORT [HOST]]   (defaults: 8080 127.0.0.1). Build: cc -O2 reference.c.
 * SIGINT or SIGTERM stops it cleanly.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* One read is at most this much, and a request longer than this closes its connection. */
#define READ_BUFFER_SIZE 65536
#define MAX_EVENTS 256

typedef struct conn {
    int fd;
    size_t rlen;   /* bytes in rbuf: the start of a request that is not yet complete */
    char *pending; /* output a write() did not take, or NULL */
    size_t pending_len;
    size_t pending_off;
    char rbuf[READ_BUFFER_SIZE];
} conn;

static const char response_head[] = "HTTP/1.1 200 OK\r\n"
                                    "Content-Type: text/plain; charset=utf-8\r\n"
                                    "Content-Length: 12\r\n"
                                    "Date: ";
static const char response_tail[] = " GMT\r\n"
                                    "Server: epollref\r\n"
                                    "\r\n"
                                    "Hello world!";
/* "Sun, 06 Nov 1994 08:49:37" is 25 bytes; " GMT" is in the tail. */
#define DATE_LEN 25
#define RESPONSE_LEN (sizeof(response_head) - 1 + DATE_LEN + sizeof(response_tail) - 1)

static char response[RESPONSE_LEN + 1];
static time_t response_second;

/* The scratch buffer all responses of one read are assembled in; it only grows. */
static char *out;
static size_t out_cap;

static int epfd;
static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

/* Rewrites the Date in the response if the second changed. time() is a vDSO call, not a
 * system call, so calling it once per loop wake-up is free and does not show under strace. */
static void
date_refresh(void)
{
    time_t now = time(NULL);
    if (now == response_second)
        return;
    struct tm tm;
    char buf[DATE_LEN + 1];
    gmtime_r(&now, &tm);
    /* The C locale is in force (setlocale is never called), so names are English. */
    if (strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S", &tm) != DATE_LEN)
        return;
    memcpy(response + sizeof(response_head) - 1, buf, DATE_LEN);
    response_second = now;
}

static void
conn_close(conn *c)
{
    close(c->fd); /* also removes it from the epoll set */
    free(c->pending);
    free(c);
}

static int
conn_watch(conn *c, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = c};
    return epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Writes n bytes of out; what the socket does not take is kept and the connection switches
 * to waiting for EPOLLOUT. Returns 0, or -1 if the connection must be closed. */
static int
conn_send(conn *c, const char *data, size_t n)
{
    ssize_t w = write(c->fd, data, n);
    if (w < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return -1;
        w = 0;
    }
    if ((size_t)w == n)
        return 0;
    c->pending_len = n - (size_t)w;
    c->pending_off = 0;
    c->pending = malloc(c->pending_len);
    if (c->pending == NULL)
        return -1;
    memcpy(c->pending, data + w, c->pending_len);
    return conn_watch(c, EPOLLOUT);
}

/* Finishes a partial write; once everything is out, reading resumes. 0 or -1 (close). */
static int
conn_writable(conn *c)
{
    ssize_t w = write(c->fd, c->pending + c->pending_off, c->pending_len - c->pending_off);
    if (w < 0)
        return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -1;
    c->pending_off += (size_t)w;
    if (c->pending_off < c->pending_len)
        return 0;
    free(c->pending);
    c->pending = NULL;
    return conn_watch(c, EPOLLIN);
}

/* One read, then one response for every "\r\n\r\n" it completed, all in one write().
 * Returns 0, or -1 if the connection must be closed (EOF, error, request too long). */
static int
conn_readable(conn *c)
{
    ssize_t n = read(c->fd, c->rbuf + c->rlen, READ_BUFFER_SIZE - c->rlen);
    if (n <= 0)
        return (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) ? 0 : -1;

    /* What was kept from the last read holds no terminator, but one may straddle the old end. */
    size_t scan = c->rlen >= 3 ? c->rlen - 3 : 0;
    c->rlen += (size_t)n;
    const char *end = c->rbuf + c->rlen;
    const char *p = c->rbuf + scan;
    const char *done = c->rbuf;
    size_t count = 0;
    const char *q;
    while ((q = memmem(p, (size_t)(end - p), "\r\n\r\n", 4)) != NULL) {
        count++;
        p = done = q + 4;
    }
    c->rlen = (size_t)(end - done);
    if (c->rlen == READ_BUFFER_SIZE)
        return -1;
    if (c->rlen && done != c->rbuf)
        memmove(c->rbuf, done, c->rlen);
    if (count == 0)
        return 0;

    size_t len = count * RESPONSE_LEN;
    if (len > out_cap) {
        size_t cap = out_cap ? out_cap : 65536;
        while (cap < len)
            cap *= 2;
        char *grown = realloc(out, cap);
        if (grown == NULL)
            return -1;
        out = grown;
        out_cap = cap;
    }
    for (size_t i = 0; i < count; i++)
        memcpy(out + i * RESPONSE_LEN, response, RESPONSE_LEN);
    return conn_send(c, out, len);
}

static void
accept_all(int lfd)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return; /* EAGAIN, or EMFILE and the like: the level-triggered loop retries */
        }
        /* Like uvloop's TCP transports, so small pipelined answers are not delayed. */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn *c = malloc(sizeof *c);
        if (c == NULL) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->rlen = 0;
        c->pending = NULL;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
            conn_close(c);
    }
}

int
main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 8080;
    const char *host = argc > 2 ? argv[2] : "127.0.0.1";
    if (port <= 0 || port > 65535) {
        fprintf(stderr, "usage: %s [PORT [HOST]]\n", argv[0]);
        return 2;
    }

    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: epoll_wait returns EINTR and the loop ends */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    memcpy(response, response_head, sizeof(response_head) - 1);
    memset(response + sizeof(response_head) - 1, ' ', DATE_LEN);
    memcpy(response + sizeof(response_head) - 1 + DATE_LEN, response_tail,
           sizeof(response_tail) - 1);
    date_refresh();

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        inet_pton(AF_INET, host, &addr.sin_addr) != 1 ||
        bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, 4096) < 0) {
        perror("reference: listen");
        return 1;
    }
    epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev) < 0) {
        perror("reference: epoll");
        return 1;
    }
    fprintf(stderr, "reference: listening on %s:%d\n", host, port);

    struct epoll_event events[MAX_EVENTS];
    while (!stopping) {
        int n = epoll_wait(epfd, events, MAX_EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("reference: epoll_wait");
            return 1;
        }
        date_refresh();
        for (int i = 0; i < n; i++) {
            conn *c = events[i].data.ptr;
            if (c == NULL) {
                accept_all(lfd);
                continue;
            }
            /* Each fd appears at most once per epoll_wait, so closing c here is safe. */
            int rc = c->pending ? conn_writable(c) : conn_readable(c);
            if (rc < 0)
                conn_close(c);
        }
    }
    close(lfd);
    close(epfd);
    free(out);
    return 0;
}
