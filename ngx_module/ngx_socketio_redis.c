
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>
#include "ngx_socketio_redis.h"


#define NGX_SOCKETIO_REDIS_BACKOFF_MIN    100
#define NGX_SOCKETIO_REDIS_BACKOFF_MAX    5000
#define NGX_SOCKETIO_REDIS_CONNECT_TIMEOUT  5000

/* a reply larger than this is not from a sane server */
#define NGX_SOCKETIO_REDIS_MAX_BUFFERED   (512 * 1024 * 1024)


typedef enum {
    NGX_SOCKETIO_REDIS_DOWN = 0,
    NGX_SOCKETIO_REDIS_CONNECTING,
    NGX_SOCKETIO_REDIS_HANDSHAKE,
    NGX_SOCKETIO_REDIS_UP
} ngx_socketio_redis_state_e;


typedef struct {
    ngx_socketio_redis_reply_pt    handler;
    void                          *data;
} ngx_socketio_redis_cb_t;


struct ngx_socketio_redis_s {
    ngx_socketio_redis_conf_t     *conf;
    const char                    *role;
    ngx_log_t                     *log;

    ngx_peer_connection_t          peer;
    redisReader                   *reader;
    ngx_socketio_redis_state_e     state;

    ngx_event_t                    reconnect;
    ngx_event_t                    flush;
    ngx_msec_t                     backoff;
    ngx_uint_t                     failures;
    ngx_uint_t                     was_up;

    /* formatted commands not yet written */
    u_char                        *out;
    size_t                         out_len;
    size_t                         out_size;

    /* handlers of the replies to come, in order: a ring */
    ngx_socketio_redis_cb_t       *cbs;
    ngx_uint_t                     cb_head;
    ngx_uint_t                     cb_count;
    ngx_uint_t                     cb_size;

    ngx_uint_t                     handshake;      /* replies still due */

    ngx_socketio_redis_state_pt    on_state;
    ngx_socketio_redis_reply_pt    on_push;
    void                          *data;

    unsigned                       subscriber:1;
};


static void ngx_socketio_redis_connect_handler(ngx_event_t *wev);
static void ngx_socketio_redis_read_handler(ngx_event_t *rev);
static void ngx_socketio_redis_write_handler(ngx_event_t *wev);
static void ngx_socketio_redis_flush_handler(ngx_event_t *ev);
static void ngx_socketio_redis_reconnect_handler(ngx_event_t *ev);
static void ngx_socketio_redis_handshake(ngx_socketio_redis_t *r);
static void ngx_socketio_redis_handshake_reply(ngx_socketio_redis_t *r,
    redisReply *reply, void *data);
static void ngx_socketio_redis_dispatch(ngx_socketio_redis_t *r,
    redisReply *reply);
static ngx_int_t ngx_socketio_redis_queue(ngx_socketio_redis_t *r, int argc,
    const char **argv, const size_t *argvlen);
static ngx_int_t ngx_socketio_redis_push_cb(ngx_socketio_redis_t *r,
    ngx_socketio_redis_reply_pt handler, void *data);
static ngx_int_t ngx_socketio_redis_write(ngx_socketio_redis_t *r);
static void ngx_socketio_redis_lost(ngx_socketio_redis_t *r,
    const char *why);
static void ngx_socketio_redis_close(ngx_socketio_redis_t *r);


char *
ngx_socketio_redis_parse_url(ngx_conf_t *cf, ngx_str_t *url,
    ngx_socketio_redis_conf_t *rc)
{
    u_char     *p, *last, *at, *colon, *host, *slash;
    ngx_url_t   u;
    ngx_int_t   db;

    rc->url = *url;
    rc->db = 0;
    ngx_str_null(&rc->user);
    ngx_str_null(&rc->password);

    p = url->data;
    last = p + url->len;

    if (url->len > 8 && ngx_strncasecmp(p, (u_char *) "redis://", 8) == 0) {
        p += 8;

    } else if (!(url->len > 5 && ngx_strncmp(p, "unix:", 5) == 0)) {
        return "must start with \"redis://\" or \"unix:\"";
    }

    /* [[user]:password@] */

    at = ngx_strlchr(p, last, '@');

    if (at) {
        colon = ngx_strlchr(p, at, ':');

        if (colon) {
            rc->user.data = p;
            rc->user.len = colon - p;
            rc->password.data = colon + 1;
            rc->password.len = at - colon - 1;

        } else {
            /* "redis://secret@host": a password alone, as redis-cli reads */
            rc->password.data = p;
            rc->password.len = at - p;
        }

        p = at + 1;
    }

    host = p;

    if (last - p > 5 && ngx_strncmp(p, "unix:", 5) == 0) {
        /* unix:/path[?db=N] */

        slash = ngx_strlchr(p, last, '?');

        if (slash) {
            if (last - slash < 5 || ngx_strncmp(slash, "?db=", 4) != 0) {
                return "has an unknown query; only \"?db=N\" is known";
            }

            db = ngx_atoi(slash + 4, last - slash - 4);
            if (db < 0) {
                return "has an invalid database number";
            }

            rc->db = db;
            last = slash;
        }

    } else {
        /* host[:port][/db] */

        slash = ngx_strlchr(p, last, '/');

        if (slash) {
            if (slash + 1 < last) {
                db = ngx_atoi(slash + 1, last - slash - 1);
                if (db < 0) {
                    return "has an invalid database number";
                }

                rc->db = db;
            }

            last = slash;
        }
    }

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url.data = host;
    u.url.len = last - host;
    u.default_port = 6379;
    u.no_resolve = 0;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        if (u.err) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s in \"%V\"", u.err,
                               url);
        }

        return NGX_CONF_ERROR;
    }

    if (u.naddrs == 0) {
        return "has a host that does not resolve";
    }

    rc->addr = u.addrs[0];

    return NGX_CONF_OK;
}


ngx_socketio_redis_t *
ngx_socketio_redis_create(ngx_socketio_redis_conf_t *rc, const char *role,
    ngx_uint_t subscriber, ngx_socketio_redis_state_pt on_state,
    ngx_socketio_redis_reply_pt on_push, void *data, ngx_log_t *log)
{
    ngx_socketio_redis_t  *r;

    r = ngx_calloc(sizeof(ngx_socketio_redis_t), log);
    if (r == NULL) {
        return NULL;
    }

    r->conf = rc;
    r->role = role;
    r->log = log;
    r->subscriber = subscriber;
    r->on_state = on_state;
    r->on_push = on_push;
    r->data = data;
    r->backoff = NGX_SOCKETIO_REDIS_BACKOFF_MIN;

    r->reconnect.handler = ngx_socketio_redis_reconnect_handler;
    r->reconnect.data = r;
    r->reconnect.log = log;
    r->reconnect.cancelable = 1;

    r->flush.handler = ngx_socketio_redis_flush_handler;
    r->flush.data = r;
    r->flush.log = log;

    return r;
}


ngx_int_t
ngx_socketio_redis_ready(ngx_socketio_redis_t *r)
{
    return r->state == NGX_SOCKETIO_REDIS_UP;
}


void
ngx_socketio_redis_connect(ngx_socketio_redis_t *r)
{
    ngx_int_t          rc;
    ngx_connection_t  *c;

    r->reader = redisReaderCreate();
    if (r->reader == NULL) {
        ngx_socketio_redis_lost(r, "out of memory");
        return;
    }

    ngx_memzero(&r->peer, sizeof(ngx_peer_connection_t));

    r->peer.sockaddr = r->conf->addr.sockaddr;
    r->peer.socklen = r->conf->addr.socklen;
    r->peer.name = &r->conf->addr.name;
    r->peer.get = ngx_event_get_peer;
    r->peer.log = r->log;
    r->peer.log_error = NGX_ERROR_ERR;
    r->peer.so_keepalive = 1;
    r->peer.tries = 1;

    r->state = NGX_SOCKETIO_REDIS_CONNECTING;

#if (NGX_HAVE_UNIX_DOMAIN)

    /*
     * A Redis that stopped removes its socket; connect() would then fail
     * with ENOENT, which nginx logs at "crit".  An outage is an error.
     */

    if (r->peer.sockaddr->sa_family == AF_UNIX) {
        struct sockaddr_un  *sun;
        ngx_file_info_t      fi;

        sun = (struct sockaddr_un *) r->peer.sockaddr;

        if (ngx_file_info(sun->sun_path, &fi) == NGX_FILE_ERROR) {

            if (r->failures++ == 0) {
                ngx_log_error(NGX_LOG_ERR, r->log, ngx_errno,
                              "socketio: redis %V (%s) connection refused",
                              &r->conf->url, r->role);
            }

            ngx_socketio_redis_lost(r, NULL);
            return;
        }
    }

#endif

    rc = ngx_event_connect_peer(&r->peer);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        ngx_socketio_redis_lost(r, "connect() failed");
        return;
    }

    c = r->peer.connection;

    c->data = r;
    c->read->handler = ngx_socketio_redis_read_handler;
    c->write->handler = ngx_socketio_redis_connect_handler;
    c->read->cancelable = 1;
    c->write->cancelable = 1;

    if (rc == NGX_AGAIN) {
        ngx_add_timer(c->write, NGX_SOCKETIO_REDIS_CONNECT_TIMEOUT);
        return;
    }

    ngx_socketio_redis_connect_handler(c->write);
}


static void
ngx_socketio_redis_connect_handler(ngx_event_t *wev)
{
    int                    err;
    socklen_t              len;
    ngx_connection_t      *c;
    ngx_socketio_redis_t  *r;

    c = wev->data;
    r = c->data;

    if (wev->timedout) {
        ngx_socketio_redis_lost(r, "connect timed out");
        return;
    }

    if (wev->timer_set) {
        ngx_del_timer(wev);
    }

    err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len) == -1) {
        err = ngx_socket_errno;
    }

    if (err) {
        /* the first failure is an error; the rest are counted */

        if (r->failures++ == 0) {
            ngx_log_error(NGX_LOG_ERR, r->log, err,
                          "socketio: redis %V (%s) connection refused",
                          &r->conf->url, r->role);
        }

        ngx_socketio_redis_lost(r, NULL);
        return;
    }

    c->write->handler = ngx_socketio_redis_write_handler;

    r->state = NGX_SOCKETIO_REDIS_HANDSHAKE;

    ngx_socketio_redis_handshake(r);
}


/* AUTH and SELECT go first; what the user queues waits for "up" */

static void
ngx_socketio_redis_handshake(ngx_socketio_redis_t *r)
{
    int          argc;
    u_char       db[NGX_INT_T_LEN];
    const char  *argv[3];
    size_t       argvlen[3];

    r->handshake = 0;

    if (r->conf->password.len) {
        argc = 0;
        argv[argc] = "AUTH";
        argvlen[argc++] = 4;

        if (r->conf->user.len) {
            argv[argc] = (const char *) r->conf->user.data;
            argvlen[argc++] = r->conf->user.len;
        }

        argv[argc] = (const char *) r->conf->password.data;
        argvlen[argc++] = r->conf->password.len;

        if (ngx_socketio_redis_queue(r, argc, argv, argvlen) != NGX_OK
            || ngx_socketio_redis_push_cb(r,
                                     ngx_socketio_redis_handshake_reply, "AUTH")
               != NGX_OK)
        {
            ngx_socketio_redis_lost(r, "out of memory");
            return;
        }

        r->handshake++;
    }

    /* Pub/Sub does not depend on the database */

    if (r->conf->db && !r->subscriber) {
        argv[0] = "SELECT";
        argvlen[0] = 6;
        argv[1] = (const char *) db;
        argvlen[1] = ngx_sprintf(db, "%ui", r->conf->db) - db;

        if (ngx_socketio_redis_queue(r, 2, argv, argvlen) != NGX_OK
            || ngx_socketio_redis_push_cb(r,
                                   ngx_socketio_redis_handshake_reply, "SELECT")
               != NGX_OK)
        {
            ngx_socketio_redis_lost(r, "out of memory");
            return;
        }

        r->handshake++;
    }

    if (r->handshake) {
        if (ngx_socketio_redis_write(r) != NGX_OK) {
            ngx_socketio_redis_lost(r, "write failed");
        }

        return;
    }

    ngx_socketio_redis_handshake_reply(r, NULL, NULL);
}


static void
ngx_socketio_redis_handshake_reply(ngx_socketio_redis_t *r, redisReply *reply,
    void *data)
{
    if (data) {
        if (reply == NULL) {
            return;
        }

        if (reply->type == REDIS_REPLY_ERROR) {
            ngx_log_error(NGX_LOG_ERR, r->log, 0,
                          "socketio: redis %V (%s) refused %s: %*s",
                          &r->conf->url, r->role, (char *) data,
                          reply->len, reply->str);
            ngx_socketio_redis_lost(r, NULL);
            return;
        }

        if (--r->handshake) {
            return;
        }
    }

    r->state = NGX_SOCKETIO_REDIS_UP;
    r->backoff = NGX_SOCKETIO_REDIS_BACKOFF_MIN;
    r->failures = 0;

    ngx_log_error(NGX_LOG_NOTICE, r->log, 0,
                  "socketio: redis %V (%s) %s", &r->conf->url, r->role,
                  r->was_up ? "reconnected" : "connected");

    r->was_up = 1;

    r->on_state(r, 1, r->data);
}


static void
ngx_socketio_redis_read_handler(ngx_event_t *rev)
{
    ssize_t                n;
    void                  *reply;
    ngx_connection_t      *c;
    ngx_socketio_redis_t  *r;
    u_char                 buf[16384];

    c = rev->data;
    r = c->data;

    if (rev->timedout) {
        rev->timedout = 0;
        return;
    }

    /* edge-triggered: drain the socket */

    while (rev->ready) {

        n = c->recv(c, buf, sizeof(buf));

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == 0) {
            ngx_socketio_redis_lost(r, "closed by the server");
            return;
        }

        if (n == NGX_ERROR) {
            ngx_socketio_redis_lost(r, "read failed");
            return;
        }

        if (redisReaderFeed(r->reader, (const char *) buf, n) != REDIS_OK
            || r->reader->len > NGX_SOCKETIO_REDIS_MAX_BUFFERED)
        {
            ngx_socketio_redis_lost(r, "reply too large");
            return;
        }

        for ( ;; ) {
            reply = NULL;

            if (redisReaderGetReply(r->reader, &reply) != REDIS_OK) {
                ngx_log_error(NGX_LOG_ERR, r->log, 0,
                              "socketio: redis %V (%s) protocol error: %s",
                              &r->conf->url, r->role, r->reader->errstr);
                ngx_socketio_redis_lost(r, NULL);
                return;
            }

            if (reply == NULL) {
                break;
            }

            ngx_socketio_redis_dispatch(r, reply);
            freeReplyObject(reply);

            if (r->peer.connection != c) {
                /* the connection was lost in a handler */
                return;
            }
        }
    }

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_socketio_redis_lost(r, "event failed");
    }
}


static void
ngx_socketio_redis_dispatch(ngx_socketio_redis_t *r, redisReply *reply)
{
    redisReply               *kind;
    ngx_socketio_redis_cb_t   cb;

    if (r->subscriber
        && reply->type == REDIS_REPLY_ARRAY
        && reply->elements >= 3
        && reply->element[0]->type == REDIS_REPLY_STRING)
    {
        kind = reply->element[0];

        /* message, pmessage, smessage, (p|s)(un)subscribe */

        if ((kind->len >= 7 && ngx_strncmp(kind->str + kind->len - 7,
                                           "message", 7) == 0)
            || (kind->len >= 9 && ngx_strncmp(kind->str + kind->len - 9,
                                              "subscribe", 9) == 0))
        {
            r->on_push(r, reply, r->data);
            return;
        }
    }

    if (r->cb_count == 0) {
        if (reply->type == REDIS_REPLY_ERROR) {
            ngx_log_error(NGX_LOG_ERR, r->log, 0,
                          "socketio: redis %V (%s) error: %*s",
                          &r->conf->url, r->role, reply->len, reply->str);
        }

        return;
    }

    cb = r->cbs[r->cb_head];
    r->cb_head = (r->cb_head + 1) % r->cb_size;
    r->cb_count--;

    if (cb.handler) {
        cb.handler(r, reply, cb.data);

    } else if (reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, r->log, 0,
                      "socketio: redis %V (%s) error: %*s",
                      &r->conf->url, r->role, reply->len, reply->str);
    }
}


ngx_int_t
ngx_socketio_redis_command(ngx_socketio_redis_t *r, int argc,
    const char **argv, const size_t *argvlen,
    ngx_socketio_redis_reply_pt handler, void *data)
{
    if (r->state != NGX_SOCKETIO_REDIS_UP) {
        return NGX_DECLINED;
    }

    if (ngx_socketio_redis_push_cb(r, handler, data) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_socketio_redis_queue(r, argc, argv, argvlen) != NGX_OK) {
        /* take the handler back */
        r->cb_count--;
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_socketio_redis_subscribe(ngx_socketio_redis_t *r, int argc,
    const char **argv, const size_t *argvlen)
{
    if (r->state != NGX_SOCKETIO_REDIS_UP) {
        return NGX_DECLINED;
    }

    return ngx_socketio_redis_queue(r, argc, argv, argvlen);
}


static ngx_int_t
ngx_socketio_redis_push_cb(ngx_socketio_redis_t *r,
    ngx_socketio_redis_reply_pt handler, void *data)
{
    ngx_uint_t                i, size;
    ngx_socketio_redis_cb_t  *cbs;

    if (r->cb_count == r->cb_size) {
        size = r->cb_size ? r->cb_size * 2 : 64;

        cbs = ngx_alloc(size * sizeof(ngx_socketio_redis_cb_t), r->log);
        if (cbs == NULL) {
            return NGX_ERROR;
        }

        for (i = 0; i < r->cb_count; i++) {
            cbs[i] = r->cbs[(r->cb_head + i) % r->cb_size];
        }

        ngx_free(r->cbs);

        r->cbs = cbs;
        r->cb_head = 0;
        r->cb_size = size;
    }

    r->cbs[(r->cb_head + r->cb_count) % r->cb_size].handler = handler;
    r->cbs[(r->cb_head + r->cb_count) % r->cb_size].data = data;
    r->cb_count++;

    return NGX_OK;
}


static ngx_int_t
ngx_socketio_redis_queue(ngx_socketio_redis_t *r, int argc, const char **argv,
    const size_t *argvlen)
{
    int      len;
    char    *cmd;
    u_char  *out;
    size_t   size;

    len = redisFormatCommandArgv(&cmd, argc, argv, argvlen);
    if (len < 0) {
        return NGX_ERROR;
    }

    if (r->out_len + len > r->out_size) {
        size = ngx_max(r->out_size * 2, r->out_len + len);
        size = ngx_max(size, 4096);

        out = ngx_alloc(size, r->log);
        if (out == NULL) {
            redisFreeCommand(cmd);
            return NGX_ERROR;
        }

        if (r->out_len) {
            ngx_memcpy(out, r->out, r->out_len);
        }

        ngx_free(r->out);

        r->out = out;
        r->out_size = size;
    }

    ngx_memcpy(r->out + r->out_len, cmd, len);
    r->out_len += len;

    redisFreeCommand(cmd);

    /* commands queued in one event loop turn go out as one write */

    if (!r->flush.posted) {
        ngx_post_event(&r->flush, &ngx_posted_events);
    }

    return NGX_OK;
}


static void
ngx_socketio_redis_flush_handler(ngx_event_t *ev)
{
    ngx_socketio_redis_t  *r;

    r = ev->data;

    if (r->peer.connection == NULL
        || r->state == NGX_SOCKETIO_REDIS_CONNECTING)
    {
        return;
    }

    if (ngx_socketio_redis_write(r) != NGX_OK) {
        ngx_socketio_redis_lost(r, "write failed");
    }
}


static void
ngx_socketio_redis_write_handler(ngx_event_t *wev)
{
    ngx_connection_t      *c;
    ngx_socketio_redis_t  *r;

    c = wev->data;
    r = c->data;

    if (ngx_socketio_redis_write(r) != NGX_OK) {
        ngx_socketio_redis_lost(r, "write failed");
    }
}


static ngx_int_t
ngx_socketio_redis_write(ngx_socketio_redis_t *r)
{
    ssize_t            n;
    ngx_connection_t  *c;

    c = r->peer.connection;

    while (r->out_len) {

        if (!c->write->ready) {
            break;
        }

        n = c->send(c, r->out, r->out_len);

        if (n == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (n == NGX_AGAIN) {
            break;
        }

        r->out_len -= n;

        if (r->out_len) {
            ngx_memmove(r->out, r->out + n, r->out_len);
        }
    }

    /* a large idle buffer is given back */

    if (r->out_len == 0 && r->out_size > 65536) {
        ngx_free(r->out);
        r->out = NULL;
        r->out_size = 0;
    }

    if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the connection is gone: fail what waited, tell the owner, retry later */

static void
ngx_socketio_redis_lost(ngx_socketio_redis_t *r, const char *why)
{
    ngx_msec_t                delay;
    ngx_uint_t                up;
    ngx_socketio_redis_cb_t   cb;

    up = (r->state == NGX_SOCKETIO_REDIS_UP);

    if (why) {
        if (up) {
            ngx_log_error(NGX_LOG_ERR, r->log, 0,
                          "socketio: redis %V (%s) connection lost: %s",
                          &r->conf->url, r->role, why);

        } else if (r->failures++ == 0) {
            ngx_log_error(NGX_LOG_ERR, r->log, 0,
                          "socketio: redis %V (%s) connection failed: %s",
                          &r->conf->url, r->role, why);
        }
    }

    ngx_socketio_redis_close(r);

    r->state = NGX_SOCKETIO_REDIS_DOWN;

    while (r->cb_count) {
        cb = r->cbs[r->cb_head];
        r->cb_head = (r->cb_head + 1) % r->cb_size;
        r->cb_count--;

        if (cb.handler) {
            cb.handler(r, NULL, cb.data);
        }
    }

    if (up) {
        r->on_state(r, 0, r->data);
    }

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    /* exponential backoff with jitter: 50-100% of the step */

    delay = r->backoff / 2 + (ngx_random() % (r->backoff / 2 + 1));

    r->backoff = ngx_min(r->backoff * 2, NGX_SOCKETIO_REDIS_BACKOFF_MAX);

    ngx_log_debug3(NGX_LOG_DEBUG_EVENT, r->log, 0,
                   "socketio: redis %s reconnect in %M ms (%s)", r->role,
                   delay, why ? why : "");

    ngx_add_timer(&r->reconnect, delay);
}


static void
ngx_socketio_redis_reconnect_handler(ngx_event_t *ev)
{
    ngx_socketio_redis_t  *r;

    r = ev->data;

    if (r->failures && r->failures % 10 == 0) {
        ngx_log_error(NGX_LOG_ERR, r->log, 0,
                      "socketio: redis %V (%s) still unreachable after %ui "
                      "attempts", &r->conf->url, r->role, r->failures);
    }

    ngx_socketio_redis_connect(r);
}


static void
ngx_socketio_redis_close(ngx_socketio_redis_t *r)
{
    if (r->peer.connection) {
        ngx_close_connection(r->peer.connection);
        r->peer.connection = NULL;
    }

    if (r->reader) {
        redisReaderFree(r->reader);
        r->reader = NULL;
    }

    if (r->flush.posted) {
        ngx_delete_posted_event(&r->flush);
    }

    r->out_len = 0;
}


void
ngx_socketio_redis_destroy(ngx_socketio_redis_t *r)
{
    ngx_socketio_redis_cb_t  cb;

    if (r->reconnect.timer_set) {
        ngx_del_timer(&r->reconnect);
    }

    ngx_socketio_redis_close(r);

    while (r->cb_count) {
        cb = r->cbs[r->cb_head];
        r->cb_head = (r->cb_head + 1) % r->cb_size;
        r->cb_count--;

        if (cb.handler) {
            cb.handler(r, NULL, cb.data);
        }
    }

    ngx_free(r->out);
    ngx_free(r->cbs);
    ngx_free(r);
}
