
/*
 * Copyright (C) ngx_http_socketio_module authors
 *
 * loadgen: many Socket.IO v5 clients over WebSocket, in C, so that the
 * load generator is never the bottleneck.
 *
 * Each client: TCP connect, the HTTP upgrade (rooms in the query string),
 * the Engine.IO open packet, "40" (CONNECT to "/"), then it answers every
 * ping and counts the events it receives.  An event whose first argument
 * is a number is taken as a send time (microseconds of CLOCK_REALTIME) and
 * gives a latency sample.
 *
 * The clients are spread over processes (the per-process file limit) and
 * over loopback source addresses 127.0.0.1 ... 127.0.0.N.
 *
 *   loadgen -p PORT -n CLIENTS [-P PROCS] [-s SOURCES] [-q QUERY]
 *           [-r ROOMS] [-t SECONDS] [-o FILE] [-R READY_FILE]
 *
 * -q  query string for every client, "%d" replaced by the client number
 * -r  each client joins room "r<k % ROOMS>" (query "room=r<k>")
 * -t  run this long after everyone is connected (0: until SIGTERM/SIGINT)
 * -R  a file written (with the count) once every client is connected
 * -o  where the JSON summary goes (stdout by default)
 * -S  stop reading: sockets connect, then never read again (a slow
 *     consumer; SIGUSR1 ends it)
 */


#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/mman.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>


#define LG_RBUF       65536
#define LG_MAX_LAT    (1 << 20)


enum {
    LG_CONNECTING = 0,     /* TCP connect in progress */
    LG_HANDSHAKE,          /* upgrade sent, waiting for the 101 */
    LG_UPGRADED,           /* waiting for the open packet */
    LG_OPEN,               /* "40" sent, waiting for the CONNECT reply */
    LG_CONNECTED
};


typedef struct {
    int        fd;
    int        state;
    size_t     len;            /* bytes kept of a partial frame */
    size_t     size;
    char      *buf;
} lg_client_t;


/* per-process results, in shared memory for the parent to sum */

typedef struct {
    uint64_t   connected;
    uint64_t   failed;
    uint64_t   events;
    uint64_t   bytes;
    uint64_t   closed;
    uint64_t   nlat;
    uint32_t   lat[LG_MAX_LAT / 16];   /* microseconds, sampled */
} lg_result_t;


static const char   *host = "127.0.0.1";
static int           port;
static int           nclients = 1;
static int           nprocs = 1;
static int           nsources = 1;
static int           nrooms;
static int           seconds;
static int           slow;
static const char   *query = "";
static const char   *ready_file;
static const char   *out_file;

static volatile sig_atomic_t  stop;
static lg_result_t           *results;


static void
lg_stop(int sig)
{
    (void) sig;
    stop = 1;
}


static uint64_t
lg_now_us(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);

    return (uint64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


/* a masked client text frame */

static int
lg_send_text(int fd, const char *text)
{
    size_t    n, i;
    uint8_t   frame[256];

    n = strlen(text);

    frame[0] = 0x81;
    frame[1] = 0x80 | (uint8_t) n;
    frame[2] = 0x12;
    frame[3] = 0x34;
    frame[4] = 0x56;
    frame[5] = 0x78;

    for (i = 0; i < n; i++) {
        frame[6 + i] = (uint8_t) text[i] ^ frame[2 + (i & 3)];
    }

    return send(fd, frame, 6 + n, MSG_NOSIGNAL) == (ssize_t) (6 + n) ? 0 : -1;
}


static int
lg_connect(lg_client_t *c, int k, int epfd)
{
    int                 fd, one;
    struct sockaddr_in  src, dst;
    struct epoll_event  ev;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd == -1) {
        return -1;
    }

    one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    /* 127.0.0.x: a source address per group, so ports do not run out */

    memset(&src, 0, sizeof(src));
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl(0x7f000001 + (k % nsources));

    if (nsources > 1 && bind(fd, (struct sockaddr *) &src, sizeof(src)) == -1)
    {
        close(fd);
        return -1;
    }

    memset(&dst, 0, sizeof(dst));
    dst.sin_family = AF_INET;
    dst.sin_port = htons(port);
    inet_pton(AF_INET, host, &dst.sin_addr);

    if (connect(fd, (struct sockaddr *) &dst, sizeof(dst)) == -1
        && errno != EINPROGRESS)
    {
        close(fd);
        return -1;
    }

    c->fd = fd;
    c->state = LG_CONNECTING;
    c->len = 0;

    ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
    ev.data.ptr = c;

    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}


static int
lg_handshake(lg_client_t *c, int k)
{
    char   req[1024], q[256], room[32], *p;
    int    n;

    /* the query with %d replaced by the client number */

    p = strstr(query, "%d");

    if (p) {
        snprintf(q, sizeof(q), "&%.*s%d%s", (int) (p - query), query, k,
                 p + 2);

    } else {
        snprintf(q, sizeof(q), "%s%s", *query ? "&" : "", query);
    }

    room[0] = '\0';

    if (nrooms) {
        snprintf(room, sizeof(room), "&room=r%d", k % nrooms);
    }

    n = snprintf(req, sizeof(req),
                 "GET /socket.io/?EIO=4&transport=websocket%s%s HTTP/1.1\r\n"
                 "Host: %s:%d\r\n"
                 "Connection: Upgrade\r\n"
                 "Upgrade: websocket\r\n"
                 "Sec-WebSocket-Version: 13\r\n"
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
                 room, q, host, port);

    c->state = LG_HANDSHAKE;

    return send(c->fd, req, n, MSG_NOSIGNAL) == n ? 0 : -1;
}


static void
lg_latency(lg_result_t *r, const char *p, size_t n)
{
    uint64_t  sent, now;
    char     *end, tmp[32];
    size_t    i;

    /* 42["name",<number>,... */

    for (i = 0; i < n && p[i] != ','; i++) {
        /* void */
    }

    if (i + 1 >= n || !(p[i + 1] >= '0' && p[i + 1] <= '9')) {
        return;
    }

    n = n - i - 1 < sizeof(tmp) - 1 ? n - i - 1 : sizeof(tmp) - 1;
    memcpy(tmp, p + i + 1, n);
    tmp[n] = '\0';

    sent = strtoull(tmp, &end, 10);
    now = lg_now_us();

    if (sent == 0 || sent > now) {
        return;
    }

    /* a bounded sample: every event while it fits, then every 16th */

    if (r->nlat < sizeof(r->lat) / sizeof(r->lat[0])) {
        r->lat[r->nlat] = (uint32_t) (now - sent);
    }

    r->nlat++;
}


/* handles complete frames in c->buf; returns -1 when the client closes */

static int
lg_frames(lg_client_t *c, lg_result_t *r)
{
    uint8_t   *p;
    size_t     off, hl;
    uint64_t   len;
    int        op;

    off = 0;

    for ( ;; ) {
        p = (uint8_t *) c->buf + off;

        if (c->len - off < 2) {
            break;
        }

        op = p[0] & 0x0f;
        len = p[1] & 0x7f;
        hl = 2;

        if (len == 126) {
            if (c->len - off < 4) {
                break;
            }
            len = (uint64_t) p[2] << 8 | p[3];
            hl = 4;

        } else if (len == 127) {
            if (c->len - off < 10) {
                break;
            }
            len = 0;
            for (hl = 2; hl < 10; hl++) {
                len = len << 8 | p[hl];
            }
        }

        if (c->len - off < hl + len) {
            if (hl + len > c->size) {
                char *nb = realloc(c->buf, hl + len);
                if (nb == NULL) {
                    return -1;
                }
                memmove(nb, nb + off, c->len - off);
                c->buf = nb;
                c->size = hl + len;
                c->len -= off;
                return 0;
            }
            break;
        }

        p += hl;

        if (op == 8) {
            return -1;
        }

        if (op == 1 && len >= 1) {
            switch (p[0]) {

            case '0':                                  /* open */
                if (lg_send_text(c->fd, "40") != 0) {
                    return -1;
                }
                c->state = LG_OPEN;
                break;

            case '2':                                  /* ping */
                if (lg_send_text(c->fd, "3") != 0) {
                    return -1;
                }
                break;

            case '4':
                if (len >= 2 && p[1] == '0' && c->state == LG_OPEN) {
                    c->state = LG_CONNECTED;
                    r->connected++;

                } else if (len >= 2 && p[1] == '2') {
                    r->events++;
                    lg_latency(r, (char *) p + 2, len - 2);
                }
                break;
            }
        }

        r->bytes += hl + len;
        off += hl + len;
    }

    memmove(c->buf, c->buf + off, c->len - off);
    c->len -= off;

    return 0;
}


static int
lg_read(lg_client_t *c, lg_result_t *r)
{
    ssize_t   n;
    char     *e;

    for ( ;; ) {
        if (c->size - c->len < 4096) {
            char *nb = realloc(c->buf, c->size * 2);
            if (nb == NULL) {
                return -1;
            }
            c->buf = nb;
            c->size *= 2;
        }

        n = recv(c->fd, c->buf + c->len, c->size - c->len, 0);

        if (n == 0) {
            return -1;
        }

        if (n == -1) {
            return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
        }

        c->len += n;

        if (c->state == LG_HANDSHAKE) {
            c->buf[c->len < c->size ? c->len : c->size - 1] = '\0';
            e = memmem(c->buf, c->len, "\r\n\r\n", 4);
            if (e == NULL) {
                continue;
            }
            if (strncmp(c->buf, "HTTP/1.1 101", 12) != 0) {
                return -1;
            }
            e += 4;
            c->len -= e - c->buf;
            memmove(c->buf, e, c->len);
            c->state = LG_UPGRADED;
        }

        if (lg_frames(c, r) != 0) {
            return -1;
        }
    }
}


static void
lg_events(int epfd, lg_client_t *clients, int from, lg_result_t *r,
    int timeout)
{
    int                  n, k;
    lg_client_t         *c;
    struct epoll_event   events[512];

    n = epoll_wait(epfd, events, 512, timeout);

    for (k = 0; k < n; k++) {
        c = events[k].data.ptr;

        if (c->fd == -1) {
            continue;
        }

        if (c->state == LG_CONNECTING && (events[k].events & EPOLLOUT)) {
            if (lg_handshake(c, (int) (c - clients) + from) != 0) {
                r->failed++;
                close(c->fd);
                c->fd = -1;
                continue;
            }
        }

        if (slow && c->state == LG_CONNECTED) {
            /* a slow consumer reads nothing more */
            continue;
        }

        if (events[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
            if (lg_read(c, r) != 0) {
                r->closed++;
                close(c->fd);
                c->fd = -1;
            }
        }
    }
}


static void
lg_run(int proc, int from, int count)
{
    int           epfd, i, all_reported;
    uint64_t      deadline;
    lg_client_t  *clients, *c;
    lg_result_t  *r;

    r = &results[proc];
    memset(r, 0, sizeof(*r));

    epfd = epoll_create1(0);
    clients = calloc(count, sizeof(lg_client_t));

    if (epfd == -1 || clients == NULL) {
        exit(2);
    }

    for (i = 0; i < count && !stop; i++) {
        c = &clients[i];
        c->size = 8192;
        c->buf = malloc(c->size);
        c->fd = -1;

        if (c->buf == NULL || lg_connect(c, from + i, epfd) != 0) {
            r->failed++;
        }

        /* keep the server's listen queue sane: handshake as we go */

        if (i % 64 == 63) {
            lg_events(epfd, clients, from, r, 0);
        }
    }

    deadline = 0;
    all_reported = 0;

    while (!stop) {
        lg_events(epfd, clients, from, r, 100);

        if (!all_reported && r->connected + r->failed + r->closed
                             >= (uint64_t) count)
        {
            all_reported = 1;

            if (seconds) {
                deadline = lg_now_us() + (uint64_t) seconds * 1000000;
            }
        }

        if (deadline && lg_now_us() >= deadline) {
            break;
        }
    }

    for (i = 0; i < count; i++) {
        if (clients[i].fd != -1) {
            close(clients[i].fd);
        }
        free(clients[i].buf);
    }

    free(clients);
    close(epfd);

    exit(0);
}


static int
lg_cmp(const void *a, const void *b)
{
    uint32_t  x = *(const uint32_t *) a, y = *(const uint32_t *) b;

    return x < y ? -1 : x > y;
}


int
main(int argc, char **argv)
{
    int           opt, i, per, from, status;
    pid_t        *pids;
    uint64_t      connected, failed, events, bytes, closed, nlat, reported;
    uint32_t     *lat;
    size_t        nl, j;
    FILE         *out;
    struct sigaction  sa;

    while ((opt = getopt(argc, argv, "h:p:n:P:s:q:r:t:o:R:S")) != -1) {
        switch (opt) {
        case 'h': host = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'n': nclients = atoi(optarg); break;
        case 'P': nprocs = atoi(optarg); break;
        case 's': nsources = atoi(optarg); break;
        case 'q': query = optarg; break;
        case 'r': nrooms = atoi(optarg); break;
        case 't': seconds = atoi(optarg); break;
        case 'o': out_file = optarg; break;
        case 'R': ready_file = optarg; break;
        case 'S': slow = 1; break;
        default:
            fprintf(stderr, "usage: loadgen -p PORT -n CLIENTS [-P PROCS] "
                    "[-s SOURCES] [-q QUERY] [-r ROOMS] [-t SECONDS] "
                    "[-o FILE] [-R READY_FILE] [-S]\n");
            return 2;
        }
    }

    if (port == 0 || nclients < 1 || nprocs < 1 || nsources < 1) {
        fprintf(stderr, "loadgen: -p and -n are required\n");
        return 2;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = lg_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    results = mmap(NULL, nprocs * sizeof(lg_result_t),
                   PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pids = calloc(nprocs, sizeof(pid_t));

    if (results == MAP_FAILED || pids == NULL) {
        return 2;
    }

    memset(results, 0, nprocs * sizeof(lg_result_t));

    per = nclients / nprocs;
    from = 0;

    for (i = 0; i < nprocs; i++) {
        int count = (i == nprocs - 1) ? nclients - from : per;

        pids[i] = fork();

        if (pids[i] == 0) {
            lg_run(i, from, count);
        }

        from += count;
    }

    /* the parent reports readiness and waits */

    reported = 0;

    for ( ;; ) {
        int  done = 0;

        for (i = 0; i < nprocs; i++) {
            if (pids[i] && waitpid(pids[i], &status, WNOHANG) == pids[i]) {
                pids[i] = 0;
            }
            if (pids[i] == 0) {
                done++;
            }
        }

        connected = failed = closed = 0;

        for (i = 0; i < nprocs; i++) {
            connected += results[i].connected;
            failed += results[i].failed;
            closed += results[i].closed;
        }

        if (!reported && connected + failed + closed >= (uint64_t) nclients) {
            reported = 1;

            if (ready_file) {
                FILE *f = fopen(ready_file, "w");
                if (f) {
                    fprintf(f, "%llu\n", (unsigned long long) connected);
                    fclose(f);
                }
            }
        }

        if (done == nprocs) {
            break;
        }

        if (stop) {
            for (i = 0; i < nprocs; i++) {
                if (pids[i]) {
                    kill(pids[i], SIGTERM);
                }
            }
        }

        usleep(20000);
    }

    connected = failed = events = bytes = closed = nlat = 0;
    nl = 0;

    for (i = 0; i < nprocs; i++) {
        connected += results[i].connected;
        failed += results[i].failed;
        events += results[i].events;
        bytes += results[i].bytes;
        closed += results[i].closed;
        nlat += results[i].nlat;
        nl += results[i].nlat < LG_MAX_LAT / 16 ? results[i].nlat
                                                : LG_MAX_LAT / 16;
    }

    lat = malloc((nl + 1) * sizeof(uint32_t));
    nl = 0;

    for (i = 0; lat && i < nprocs; i++) {
        size_t m = results[i].nlat < LG_MAX_LAT / 16 ? results[i].nlat
                                                     : LG_MAX_LAT / 16;
        for (j = 0; j < m; j++) {
            lat[nl++] = results[i].lat[j];
        }
    }

    if (lat && nl) {
        qsort(lat, nl, sizeof(uint32_t), lg_cmp);
    }

    out = out_file ? fopen(out_file, "w") : stdout;
    if (out == NULL) {
        out = stdout;
    }

    fprintf(out, "{\"clients\":%d,\"connected\":%llu,\"failed\":%llu,"
            "\"closed\":%llu,\"events\":%llu,\"bytes\":%llu,"
            "\"latency_samples\":%llu,\"p50_us\":%u,\"p99_us\":%u,"
            "\"max_us\":%u}\n",
            nclients, (unsigned long long) connected,
            (unsigned long long) failed, (unsigned long long) closed,
            (unsigned long long) events, (unsigned long long) bytes,
            (unsigned long long) nlat,
            nl ? lat[nl / 2] : 0, nl ? lat[(nl * 99) / 100] : 0,
            nl ? lat[nl - 1] : 0);

    if (out != stdout) {
        fclose(out);
    }

    return 0;
}
