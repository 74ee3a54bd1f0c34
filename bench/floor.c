
/*
 * Copyright (C) ngx_http_socketio_module authors
 *
 * floor: the least a server can do for the bench's fan-out, to show what
 * the kernel costs.  An epoll loop that accepts loadgen's connections,
 * answers the upgrade with a fixed 101 and open packet, answers the first
 * message ("40") with a fixed CONNECT reply, and then reads and discards.
 * No Redis, no parsing beyond "room=" in the request line.
 *
 * The trigger comes on stdin, one line per broadcast:
 *
 *     ROOM PAYLOAD\n          ROOM "*" is every socket
 *
 * PAYLOAD is a Socket.IO packet (42["t",...]); floor frames it once and
 * writes the frame to each target socket with one send() per socket (what
 * does not fit waits for EPOLLOUT).
 *
 *   floor -p PORT [-w PROCS]
 *
 * -w  PROCS processes with SO_REUSEPORT listeners (for more connections
 *     than one process may open); stdin is then read by none of them.
 */


#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>


enum {
    FL_HTTP = 1,           /* reading the upgrade request */
    FL_OPEN,               /* open packet sent, waiting for "40" */
    FL_CONNECTED
};


typedef struct {
    int        state;
    int        room;           /* -1: none */
    int        room_pos;       /* position in the room's member list */
    int        all_pos;        /* position in the list of all sockets */
    size_t     inlen;
    char      *in;             /* the request, until it is complete */
    size_t     outlen;
    size_t     outsize;
    char      *out;            /* what send() did not take */
} fl_conn_t;


typedef struct {
    char      *name;
    int       *fds;
    int        n;
    int        cap;
} fl_room_t;


static fl_conn_t   *conns;
static int          nconns;        /* size of conns[] (by fd) */
static fl_room_t   *rooms;
static int          nrooms;
static int         *all;
static int          nall;
static int          all_cap;
static int          epfd;
static int          control = 1;

static volatile sig_atomic_t  stop;


/* the 101 and the open packet, then the CONNECT reply: fixed bytes */

static const char  fl_101_head[] =
    "HTTP/1.1 101 Switching Protocols\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

static const char  fl_open[] =
    "0{\"sid\":\"AAAAAAAAAAAAAAAAAAAA\",\"upgrades\":[],"
    "\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}";

static const char  fl_connect_packet[] =
    "40{\"sid\":\"BBBBBBBBBBBBBBBBBBBB\"}";

static char    fl_101[512];
static size_t  fl_101_len;
static char    fl_connect[64];
static size_t  fl_connect_len;


static void
fl_stop(int sig)
{
    (void) sig;
    stop = 1;
}


static int
fl_push(int **list, int *n, int *cap, int fd)
{
    int  *nl;

    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        nl = realloc(*list, *cap * sizeof(int));
        if (nl == NULL) {
            exit(2);
        }
        *list = nl;
    }

    (*list)[*n] = fd;

    return (*n)++;
}


static int
fl_room(const char *name, size_t len)
{
    int  i;

    for (i = 0; i < nrooms; i++) {
        if (strlen(rooms[i].name) == len
            && memcmp(rooms[i].name, name, len) == 0)
        {
            return i;
        }
    }

    rooms = realloc(rooms, (nrooms + 1) * sizeof(fl_room_t));
    if (rooms == NULL) {
        exit(2);
    }

    memset(&rooms[nrooms], 0, sizeof(fl_room_t));
    rooms[nrooms].name = strndup(name, len);

    return nrooms++;
}


static void
fl_close(int fd)
{
    int         last;
    fl_conn_t  *c;
    fl_room_t  *r;

    c = &conns[fd];

    if (c->state == FL_CONNECTED) {
        last = all[--nall];
        all[c->all_pos] = last;
        conns[last].all_pos = c->all_pos;

        if (c->room >= 0) {
            r = &rooms[c->room];
            last = r->fds[--r->n];
            r->fds[c->room_pos] = last;
            conns[last].room_pos = c->room_pos;
        }
    }

    free(c->in);
    free(c->out);
    memset(c, 0, sizeof(fl_conn_t));

    close(fd);
}


/* one send() per frame; the rest waits for EPOLLOUT */

static void
fl_send(int fd, const char *p, size_t len)
{
    ssize_t             n;
    fl_conn_t          *c;
    struct epoll_event  ev;

    c = &conns[fd];

    if (c->outlen == 0) {
        n = send(fd, p, len, MSG_NOSIGNAL);

        if (n == (ssize_t) len) {
            return;
        }

        if (n == -1) {
            if (errno != EAGAIN) {
                return;             /* the read side sees the error */
            }
            n = 0;
        }

        p += n;
        len -= n;

        ev.events = EPOLLIN | EPOLLOUT;
        ev.data.fd = fd;
        epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
    }

    if (c->outlen + len > c->outsize) {
        c->outsize = (c->outlen + len) * 2;
        c->out = realloc(c->out, c->outsize);
        if (c->out == NULL) {
            exit(2);
        }
    }

    memcpy(c->out + c->outlen, p, len);
    c->outlen += len;
}


static void
fl_flush(int fd)
{
    ssize_t             n;
    fl_conn_t          *c;
    struct epoll_event  ev;

    c = &conns[fd];

    n = send(fd, c->out, c->outlen, MSG_NOSIGNAL);

    if (n <= 0) {
        return;
    }

    memmove(c->out, c->out + n, c->outlen - n);
    c->outlen -= n;

    if (c->outlen == 0) {
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
    }
}


static void
fl_upgrade(int fd)
{
    char       *p, *e;
    fl_conn_t  *c;

    c = &conns[fd];

    /* the room from the request line: GET /socket.io/?...&room=NAME&... */

    c->room = -1;
    e = memchr(c->in, '\n', c->inlen);
    p = memmem(c->in, e ? (size_t) (e - c->in) : c->inlen, "room=", 5);

    if (p) {
        p += 5;
        for (e = p; *e && *e != '&' && *e != ' '; e++) {
            /* void */
        }
        if (e > p) {
            c->room = fl_room(p, e - p);
        }
    }

    free(c->in);
    c->in = NULL;
    c->inlen = 0;

    c->state = FL_OPEN;
    fl_send(fd, fl_101, fl_101_len);
}


static void
fl_read(int fd)
{
    char        buf[4096];
    ssize_t     n;
    fl_conn_t  *c;

    c = &conns[fd];

    n = recv(fd, buf, sizeof(buf), 0);

    if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
        fl_close(fd);
        return;
    }

    if (n <= 0) {
        return;
    }

    switch (c->state) {

    case FL_HTTP:
        if (c->inlen + n > 2047) {
            fl_close(fd);
            return;
        }
        memcpy(c->in + c->inlen, buf, n);
        c->inlen += n;
        c->in[c->inlen] = '\0';

        if (strstr(c->in, "\r\n\r\n")) {
            fl_upgrade(fd);
        }
        break;

    case FL_OPEN:
        /* "40": CONNECT to "/" */
        fl_send(fd, fl_connect, fl_connect_len);
        c->state = FL_CONNECTED;
        c->all_pos = fl_push(&all, &nall, &all_cap, fd);
        if (c->room >= 0) {
            c->room_pos = fl_push(&rooms[c->room].fds, &rooms[c->room].n,
                                  &rooms[c->room].cap, fd);
        }
        break;

    default:
        /* pongs and anything else: discarded */
        break;
    }
}


/* ROOM PAYLOAD: frame the payload once, one send() per target */

static char    *frame;
static size_t   frame_size;


static void
fl_broadcast(const char *line, size_t len)
{
    int          i, *fds, n;
    size_t       hl, plen;
    const char  *sp;
    fl_room_t   *r;

    sp = memchr(line, ' ', len);
    if (sp == NULL) {
        return;
    }

    plen = len - (sp + 1 - line);

    if (plen + 10 > frame_size) {
        frame_size = plen + 10;
        frame = realloc(frame, frame_size);
        if (frame == NULL) {
            exit(2);
        }
    }

    frame[0] = (char) 0x81;

    if (plen < 126) {
        frame[1] = (char) plen;
        hl = 2;

    } else if (plen < 65536) {
        frame[1] = 126;
        frame[2] = (char) (plen >> 8);
        frame[3] = (char) plen;
        hl = 4;

    } else {
        return;
    }

    memcpy(frame + hl, sp + 1, plen);

    if (sp - line == 1 && line[0] == '*') {
        fds = all;
        n = nall;

    } else {
        r = NULL;
        for (i = 0; i < nrooms; i++) {
            if (strlen(rooms[i].name) == (size_t) (sp - line)
                && memcmp(rooms[i].name, line, sp - line) == 0)
            {
                r = &rooms[i];
                break;
            }
        }
        if (r == NULL) {
            return;
        }
        fds = r->fds;
        n = r->n;
    }

    for (i = 0; i < n; i++) {
        fl_send(fds[i], frame, hl + plen);
    }
}


static char    ctl[1 << 20];
static size_t  ctl_len;


static void
fl_control(void)
{
    ssize_t   n;
    char     *p, *e;

    n = read(0, ctl + ctl_len, sizeof(ctl) - ctl_len);

    if (n <= 0) {
        if (n == 0) {
            stop = 1;               /* the bench is gone */
        }
        return;
    }

    ctl_len += n;
    p = ctl;

    while ((e = memchr(p, '\n', ctl_len - (p - ctl))) != NULL) {
        fl_broadcast(p, e - p);
        p = e + 1;
    }

    ctl_len -= p - ctl;
    memmove(ctl, p, ctl_len);
}


static int
fl_listen(int port, int reuseport)
{
    int                 fd, one;
    struct sockaddr_in  sin;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd == -1) {
        return -1;
    }

    one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));

    if (reuseport) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    }

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    if (bind(fd, (struct sockaddr *) &sin, sizeof(sin)) == -1
        || listen(fd, 4096) == -1)
    {
        close(fd);
        return -1;
    }

    return fd;
}


static void
fl_loop(int lfd)
{
    int                 i, n, fd, one;
    struct epoll_event  ev, events[512];

    epfd = epoll_create1(0);
    if (epfd == -1) {
        exit(2);
    }

    ev.events = EPOLLIN;
    ev.data.fd = lfd;
    epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);

    if (control) {
        ev.events = EPOLLIN;
        ev.data.fd = 0;
        epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &ev);
    }

    while (!stop) {
        n = epoll_wait(epfd, events, 512, 1000);

        for (i = 0; i < n; i++) {
            fd = events[i].data.fd;

            if (fd == lfd) {
                for ( ;; ) {
                    fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
                    if (fd == -1) {
                        break;
                    }
                    if (fd >= nconns) {
                        close(fd);
                        continue;
                    }
                    one = 1;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
                               sizeof(one));
                    conns[fd].state = FL_HTTP;
                    conns[fd].in = malloc(2048);
                    if (conns[fd].in == NULL) {
                        exit(2);
                    }
                    ev.events = EPOLLIN;
                    ev.data.fd = fd;
                    epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
                }
                continue;
            }

            if (fd == 0) {
                fl_control();
                continue;
            }

            if (conns[fd].state == 0) {
                continue;
            }

            if (events[i].events & EPOLLOUT) {
                fl_flush(fd);
            }

            if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                fl_read(fd);
            }
        }
    }
}


int
main(int argc, char **argv)
{
    int               opt, port, procs, i, lfd;
    pid_t            *pids;
    struct rlimit     rl;
    struct sigaction  sa;

    port = 0;
    procs = 1;

    while ((opt = getopt(argc, argv, "p:w:")) != -1) {
        switch (opt) {
        case 'p': port = atoi(optarg); break;
        case 'w': procs = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: floor -p PORT [-w PROCS]\n");
            return 2;
        }
    }

    if (port <= 0 || procs < 1) {
        fprintf(stderr, "floor: -p is required\n");
        return 2;
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = fl_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    fl_101_len = sizeof(fl_101_head) - 1;
    memcpy(fl_101, fl_101_head, fl_101_len);
    fl_101[fl_101_len++] = (char) 0x81;
    fl_101[fl_101_len++] = (char) (sizeof(fl_open) - 1);
    memcpy(fl_101 + fl_101_len, fl_open, sizeof(fl_open) - 1);
    fl_101_len += sizeof(fl_open) - 1;

    fl_connect[0] = (char) 0x81;
    fl_connect[1] = (char) (sizeof(fl_connect_packet) - 1);
    memcpy(fl_connect + 2, fl_connect_packet, sizeof(fl_connect_packet) - 1);
    fl_connect_len = 2 + sizeof(fl_connect_packet) - 1;

    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);

    nconns = (int) rl.rlim_cur;
    conns = calloc(nconns, sizeof(fl_conn_t));
    if (conns == NULL) {
        return 2;
    }

    if (procs == 1) {
        lfd = fl_listen(port, 0);
        if (lfd == -1) {
            perror("floor: listen");
            return 1;
        }
        fl_loop(lfd);
        return 0;
    }

    /* several processes: each its own SO_REUSEPORT listener */

    control = 0;
    pids = calloc(procs, sizeof(pid_t));

    for (i = 0; i < procs; i++) {
        lfd = fl_listen(port, 1);
        if (lfd == -1) {
            perror("floor: listen");
            return 1;
        }

        pids[i] = fork();

        if (pids[i] == 0) {
            fl_loop(lfd);
            exit(0);
        }

        close(lfd);
    }

    while (!stop) {
        pause();
    }

    for (i = 0; i < procs; i++) {
        kill(pids[i], SIGTERM);
    }

    for (i = 0; i < procs; i++) {
        waitpid(pids[i], NULL, 0);
    }

    return 0;
}
