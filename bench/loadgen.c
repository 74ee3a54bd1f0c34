
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
 * gives a latency sample; every sample goes into a log-linear histogram
 * (0.2% resolution), so percentiles are exact to that resolution whatever
 * the number of events.
 *
 * The clients are spread over processes (the per-process file limit) and
 * over loopback source addresses 127.0.0.1 ... 127.0.0.N.
 *
 *   loadgen -p PORT[,PORT...] -n CLIENTS [-P PROCS] [-s SOURCES] [-b FIRST]
 *           [-q QUERY] [-r ROOMS] [-c PENDING] [-t SECONDS] [-o FILE]
 *           [-R READY_FILE] [-O STATS_FILE] [-S]
 *
 * -p  the server port; with several, client k connects to port k % count
 * -b  the number of the first client (default 0), for -q and -r
 * -q  query string for every client, "%d" replaced by the client number
 * -r  each client joins room "r<k % ROOMS>" (query "room=r<k % ROOMS>")
 * -c  at most this many handshakes in progress per process (default 256),
 *     so that the server's listen queue never overflows
 * -t  run this long after everyone is connected (0: until SIGTERM/SIGINT)
 * -R  a file written (with the count) once every client is connected
 * -o  where the JSON summary goes (stdout by default)
 * -O  on SIGUSR2, the parent writes a snapshot of the counters and of the
 *     latency histogram (cumulative, JSON, one line) to this file, written
 *     aside and renamed; "seq" counts the snapshots
 * -S  stop reading: sockets connect, then never read again (a slow
 *     consumer; SIGUSR1 ends it)
 *
 * Sockets are closed with SO_LINGER 0 at the end: no TIME_WAIT is left to
 * hold the ephemeral ports of the next run.
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


#define LG_MAX_PORTS  16

/* latency histogram: 1 us buckets below 1024 us, then 512 per octave */
#define LG_SUB        512
#define LG_MAX_SHIFT  26
#define LG_NBUCKETS   (2 * LG_SUB + LG_MAX_SHIFT * LG_SUB)


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
    uint64_t   hist[LG_NBUCKETS];
} lg_result_t;


static const char   *host = "127.0.0.1";
static int           ports[LG_MAX_PORTS];
static int           nports;
static int           nclients = 1;
static int           first;
static int           nprocs = 1;
static int           nsources = 1;
static int           nrooms;
static int           max_pending = 256;
static int           seconds;
static int           slow;
static const char   *query = "";
static const char   *ready_file;
static const char   *out_file;
static const char   *stats_file;

static volatile sig_atomic_t  stop;
static volatile sig_atomic_t  snapshot;
static lg_result_t           *results;


static void
lg_stop(int sig)
{
    (void) sig;
    stop = 1;
}


static void
lg_snapshot(int sig)
{
    (void) sig;
    snapshot = 1;
}


static uint64_t
lg_now_us(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);

    return (uint64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


static int
lg_bucket(uint64_t us)
{
    int  shift;

    if (us < 2 * LG_SUB) {
        return (int) us;
    }

    shift = 63 - __builtin_clzll(us) - 9;        /* us >> shift: 512..1023 */

    if (shift > LG_MAX_SHIFT) {
        return LG_NBUCKETS - 1;
    }

    return 2 * LG_SUB + (shift - 1) * LG_SUB + (int) ((us >> shift) - LG_SUB);
}


/* the smallest value of a bucket */

static uint64_t
lg_bucket_value(int b)
{
    int  shift;

    if (b < 2 * LG_SUB) {
        return (uint64_t) b;
    }

    shift = (b - 2 * LG_SUB) / LG_SUB + 1;

    return (uint64_t) ((b - 2 * LG_SUB) % LG_SUB + LG_SUB) << shift;
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


static void
lg_close(lg_client_t *c)
{
    struct linger  l;

    l.l_onoff = 1;
    l.l_linger = 0;
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));

    close(c->fd);
    c->fd = -1;
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

    if (nsources > 1) {
        memset(&src, 0, sizeof(src));
        src.sin_family = AF_INET;
        src.sin_addr.s_addr = htonl(0x7f000001 + (k % nsources));

        /* the port is chosen at connect(), per destination */
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
                   sizeof(one));

        if (bind(fd, (struct sockaddr *) &src, sizeof(src)) == -1) {
            close(fd);
            return -1;
        }
    }

    memset(&dst, 0, sizeof(dst));
    dst.sin_family = AF_INET;
    dst.sin_port = htons(ports[k % nports]);
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

    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
        close(fd);
        c->fd = -1;
        return -1;
    }

    return 0;
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
                 room, q, host, ports[k % nports]);

    c->state = LG_HANDSHAKE;

    return send(c->fd, req, n, MSG_NOSIGNAL) == n ? 0 : -1;
}


static void
lg_latency(lg_result_t *r, const char *p, size_t n, uint64_t now)
{
    uint64_t  sent;
    size_t    i;

    /* 42["name",<number>,... */

    for (i = 0; i < n && p[i] != ','; i++) {
        /* void */
    }

    if (i + 1 >= n || !(p[i + 1] >= '0' && p[i + 1] <= '9')) {
        return;
    }

    sent = 0;

    for (i++; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
        sent = sent * 10 + (uint64_t) (p[i] - '0');
    }

    if (sent == 0 || sent > now + 1000000) {
        return;
    }

    r->hist[lg_bucket(sent > now ? 0 : now - sent)]++;
    r->nlat++;
}


/* handles complete frames in c->buf; returns -1 when the client closes */

static int
lg_frames(lg_client_t *c, lg_result_t *r)
{
    uint8_t   *p;
    size_t     off, hl;
    uint64_t   len, now;
    int        op;

    off = 0;
    now = 0;

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
                    if (now == 0) {
                        now = lg_now_us();
                    }
                    lg_latency(r, (char *) p + 2, len - 2, now);
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
    size_t    want;
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

        want = c->size - c->len;
        n = recv(c->fd, c->buf + c->len, want, 0);

        if (n == 0) {
            return -1;
        }

        if (n == -1) {
            return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
        }

        c->len += n;

        if (c->state == LG_HANDSHAKE) {
            e = memmem(c->buf, c->len, "\r\n\r\n", 4);
            if (e == NULL) {
                continue;
            }
            if (c->len < 12 || strncmp(c->buf, "HTTP/1.1 101", 12) != 0) {
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

        if ((size_t) n < want) {
            /* a short read: the socket is drained (saves a recv) */
            return 0;
        }
    }
}


static void
lg_events(int epfd, lg_client_t *clients, int from, lg_result_t *r,
    int timeout)
{
    int                  n, k, state;
    lg_client_t         *c;
    struct epoll_event   events[512];

    n = epoll_wait(epfd, events, 512, timeout);

    for (k = 0; k < n; k++) {
        c = events[k].data.ptr;

        if (c->fd == -1) {
            continue;
        }

        if (c->state == LG_CONNECTING) {
            if (!(events[k].events & EPOLLOUT)
                || (events[k].events & (EPOLLERR | EPOLLHUP))
                || lg_handshake(c, (int) (c - clients) + from) != 0)
            {
                r->failed++;
                lg_close(c);
                continue;
            }
        }

        if (slow && c->state == LG_CONNECTED) {
            /* a slow consumer reads nothing more */
            continue;
        }

        if (events[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
            state = c->state;

            if (lg_read(c, r) != 0) {
                if (state == LG_CONNECTED) {
                    r->closed++;

                } else {
                    r->failed++;
                }

                lg_close(c);
            }
        }
    }
}


static void
lg_run(int proc, int from, int count)
{
    int           epfd, i, all_reported;
    uint64_t      deadline, done;
    lg_client_t  *clients, *c;
    lg_result_t  *r;

    r = &results[proc];

    epfd = epoll_create1(0);
    clients = calloc(count, sizeof(lg_client_t));

    if (epfd == -1 || clients == NULL) {
        exit(2);
    }

    for (i = 0; i < count; i++) {
        clients[i].fd = -1;
    }

    deadline = 0;
    all_reported = 0;
    i = 0;

    while (!stop) {

        /* start handshakes while few are in progress */

        for ( ;; ) {
            done = r->connected + r->failed + r->closed;

            if (i >= count || (uint64_t) i - done >= (uint64_t) max_pending) {
                break;
            }

            c = &clients[i];
            c->size = 8192;
            c->buf = malloc(c->size);

            if (c->buf == NULL || lg_connect(c, from + i, epfd) != 0) {
                r->failed++;
            }

            i++;
        }

        lg_events(epfd, clients, from, r, i < count ? 10 : 100);

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
            lg_close(&clients[i]);
        }
        free(clients[i].buf);
    }

    free(clients);
    close(epfd);

    exit(0);
}


typedef struct {
    uint64_t   connected, failed, events, bytes, closed, nlat;
    uint64_t   hist[LG_NBUCKETS];
} lg_total_t;


static void
lg_sum(lg_total_t *t)
{
    int  i, b;

    memset(t, 0, sizeof(*t));

    for (i = 0; i < nprocs; i++) {
        t->connected += results[i].connected;
        t->failed += results[i].failed;
        t->events += results[i].events;
        t->bytes += results[i].bytes;
        t->closed += results[i].closed;
        t->nlat += results[i].nlat;

        for (b = 0; b < LG_NBUCKETS; b++) {
            t->hist[b] += results[i].hist[b];
        }
    }
}


static uint64_t
lg_percentile(lg_total_t *t, double q)
{
    uint64_t  n, want;
    int       b;

    n = 0;
    for (b = 0; b < LG_NBUCKETS; b++) {
        n += t->hist[b];
    }

    if (n == 0) {
        return 0;
    }

    want = (uint64_t) (q * (double) n);
    if (want >= n) {
        want = n - 1;
    }

    n = 0;
    for (b = 0; b < LG_NBUCKETS; b++) {
        n += t->hist[b];
        if (n > want) {
            return lg_bucket_value(b);
        }
    }

    return 0;
}


static void
lg_write_snapshot(uint64_t seq)
{
    int          b, sep;
    char         tmp[4096];
    FILE        *f;
    lg_total_t  *t;

    t = malloc(sizeof(lg_total_t));
    if (t == NULL) {
        return;
    }

    lg_sum(t);

    snprintf(tmp, sizeof(tmp), "%s.tmp", stats_file);

    f = fopen(tmp, "w");
    if (f == NULL) {
        free(t);
        return;
    }

    fprintf(f, "{\"seq\":%llu,\"clients\":%d,\"connected\":%llu,"
            "\"failed\":%llu,\"closed\":%llu,\"events\":%llu,"
            "\"bytes\":%llu,\"latency_samples\":%llu,\"hist\":[",
            (unsigned long long) seq, nclients,
            (unsigned long long) t->connected,
            (unsigned long long) t->failed, (unsigned long long) t->closed,
            (unsigned long long) t->events, (unsigned long long) t->bytes,
            (unsigned long long) t->nlat);

    /* [lowest value of the bucket in us, count], non-empty buckets */

    sep = 0;

    for (b = 0; b < LG_NBUCKETS; b++) {
        if (t->hist[b]) {
            fprintf(f, "%s[%llu,%llu]", sep ? "," : "",
                    (unsigned long long) lg_bucket_value(b),
                    (unsigned long long) t->hist[b]);
            sep = 1;
        }
    }

    fprintf(f, "]}\n");
    fclose(f);

    rename(tmp, stats_file);
    free(t);
}


static int
lg_parse_ports(char *s)
{
    char  *p;

    nports = 0;

    for (p = strtok(s, ","); p; p = strtok(NULL, ",")) {
        if (nports == LG_MAX_PORTS) {
            return -1;
        }
        ports[nports] = atoi(p);
        if (ports[nports] <= 0 || ports[nports] > 65535) {
            return -1;
        }
        nports++;
    }

    return nports ? 0 : -1;
}


int
main(int argc, char **argv)
{
    int           opt, i, per, from, status;
    pid_t        *pids;
    uint64_t      reported, seq;
    FILE         *out;
    lg_total_t   *t;
    struct sigaction  sa;

    while ((opt = getopt(argc, argv, "h:p:n:P:s:b:q:r:c:t:o:R:O:S")) != -1) {
        switch (opt) {
        case 'h': host = optarg; break;
        case 'p':
            if (lg_parse_ports(optarg) != 0) {
                fprintf(stderr, "loadgen: bad -p\n");
                return 2;
            }
            break;
        case 'n': nclients = atoi(optarg); break;
        case 'P': nprocs = atoi(optarg); break;
        case 's': nsources = atoi(optarg); break;
        case 'b': first = atoi(optarg); break;
        case 'q': query = optarg; break;
        case 'r': nrooms = atoi(optarg); break;
        case 'c': max_pending = atoi(optarg); break;
        case 't': seconds = atoi(optarg); break;
        case 'o': out_file = optarg; break;
        case 'R': ready_file = optarg; break;
        case 'O': stats_file = optarg; break;
        case 'S': slow = 1; break;
        default:
            fprintf(stderr, "usage: loadgen -p PORT[,PORT...] -n CLIENTS "
                    "[-P PROCS] [-s SOURCES] [-b FIRST] [-q QUERY] "
                    "[-r ROOMS] [-c PENDING] [-t SECONDS] [-o FILE] "
                    "[-R READY_FILE] [-O STATS_FILE] [-S]\n");
            return 2;
        }
    }

    if (nports == 0 || nclients < 1 || nprocs < 1 || nsources < 1
        || max_pending < 1 || nsources > 254)
    {
        fprintf(stderr, "loadgen: -p and -n are required\n");
        return 2;
    }

    if (nprocs > nclients) {
        nprocs = nclients;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = lg_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* a snapshot request before the handler is set must not kill us */
    signal(SIGUSR2, SIG_IGN);

    results = mmap(NULL, nprocs * sizeof(lg_result_t),
                   PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pids = calloc(nprocs, sizeof(pid_t));
    t = malloc(sizeof(lg_total_t));

    if (results == MAP_FAILED || pids == NULL || t == NULL) {
        return 2;
    }

    memset(results, 0, nprocs * sizeof(lg_result_t));

    per = nclients / nprocs;
    from = first;

    for (i = 0; i < nprocs; i++) {
        int count = (i == nprocs - 1) ? nclients - (from - first) : per;

        pids[i] = fork();

        if (pids[i] == 0) {
            lg_run(i, from, count);
        }

        from += count;
    }

    sa.sa_handler = lg_snapshot;
    sigaction(SIGUSR2, &sa, NULL);

    /* the parent reports readiness, writes snapshots and waits */

    reported = 0;
    seq = 0;

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

        if (!reported) {
            uint64_t  n = 0, connected = 0;

            for (i = 0; i < nprocs; i++) {
                connected += results[i].connected;
                n += results[i].connected + results[i].failed
                     + results[i].closed;
            }

            if (n >= (uint64_t) nclients) {
                reported = 1;

                if (ready_file) {
                    FILE *f = fopen(ready_file, "w");
                    if (f) {
                        fprintf(f, "%llu\n", (unsigned long long) connected);
                        fclose(f);
                    }
                }
            }
        }

        if (snapshot) {
            snapshot = 0;
            if (stats_file) {
                lg_write_snapshot(++seq);
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

        usleep(5000);
    }

    lg_sum(t);

    out = out_file ? fopen(out_file, "w") : stdout;
    if (out == NULL) {
        out = stdout;
    }

    fprintf(out, "{\"clients\":%d,\"connected\":%llu,\"failed\":%llu,"
            "\"closed\":%llu,\"events\":%llu,\"bytes\":%llu,"
            "\"latency_samples\":%llu,\"p50_us\":%llu,\"p99_us\":%llu,"
            "\"max_us\":%llu}\n",
            nclients, (unsigned long long) t->connected,
            (unsigned long long) t->failed, (unsigned long long) t->closed,
            (unsigned long long) t->events, (unsigned long long) t->bytes,
            (unsigned long long) t->nlat,
            (unsigned long long) lg_percentile(t, 0.50),
            (unsigned long long) lg_percentile(t, 0.99),
            (unsigned long long) lg_percentile(t, 1.0));

    if (out != stdout) {
        fclose(out);
    }

    return 0;
}
