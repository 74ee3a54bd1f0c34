
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_http.h>
#include "ngx_socketio_eio.h"
#include "ngx_socketio_ws.h"
#include "ngx_socketio_id.h"
#include "ngx_socketio_utf8.h"
#include "ngx_socketio_packet.h"
#include "ngx_socketio_stats.h"


/* how long a closing session waits for its peer to go */
#define NGX_SOCKETIO_EIO_LINGER      5000

/* writev() at most this many frames at once */
#define NGX_SOCKETIO_EIO_IOVS        64

#define NGX_SOCKETIO_EIO_LINKS       256


struct ngx_socketio_link_s {
    ngx_socketio_link_t       *next;
    ngx_socketio_frame_t      *frame;
};


/* a frame that arrived in pieces */

struct ngx_socketio_in_s {
    size_t                     size;
    size_t                     len;
    u_char                     data[1];
};


static void ngx_socketio_eio_read_handler(ngx_event_t *rev);
static void ngx_socketio_eio_write_handler(ngx_event_t *wev);
static void ngx_socketio_eio_flush_handler(ngx_event_t *ev);
static ngx_int_t ngx_socketio_eio_frames(ngx_socketio_conn_t *conn,
    u_char *p, size_t len);
static ngx_int_t ngx_socketio_eio_partial(ngx_socketio_conn_t *conn);
static ngx_int_t ngx_socketio_eio_keep(ngx_socketio_conn_t *conn, u_char *p,
    size_t len, size_t need);
static ngx_int_t ngx_socketio_eio_frame(ngx_socketio_conn_t *conn,
    ngx_socketio_ws_frame_t *f, u_char *p, size_t len);
static ngx_int_t ngx_socketio_eio_message(ngx_socketio_conn_t *conn,
    ngx_uint_t opcode, u_char *p, size_t len);
static ngx_int_t ngx_socketio_eio_heartbeat(ngx_socketio_conn_t *conn);
static void ngx_socketio_eio_arm(ngx_socketio_conn_t *conn);
static ngx_int_t ngx_socketio_eio_flush(ngx_socketio_conn_t *conn);
static void ngx_socketio_eio_write(ngx_socketio_conn_t *conn);
static void ngx_socketio_eio_shutdown(ngx_socketio_conn_t *conn,
    ngx_socketio_reason_e reason, u_char *frame, size_t len);
static void ngx_socketio_eio_closing(ngx_socketio_conn_t *conn);
static void ngx_socketio_eio_finalize(ngx_socketio_conn_t *conn);
static void ngx_socketio_eio_schedule(ngx_socketio_conn_t *conn);
static ngx_int_t ngx_socketio_eio_enqueue(ngx_socketio_conn_t *conn,
    ngx_socketio_frame_t *frame);
static void ngx_socketio_eio_free_queue(ngx_socketio_conn_t *conn);


static ngx_socketio_eio_message_pt   ngx_socketio_eio_on_message;
static ngx_socketio_eio_close_pt     ngx_socketio_eio_on_close;

static ngx_socketio_link_t          *ngx_socketio_eio_free_links;
static ngx_socketio_conn_t          *ngx_socketio_eio_flush_list;
static ngx_event_t                   ngx_socketio_eio_flush_event;
static ngx_socketio_frame_t         *ngx_socketio_eio_ping;

/*
 * Every session reads into this buffer first; only a frame that arrives
 * in pieces gets a buffer of its own, so an idle session holds none.
 */
static u_char                        ngx_socketio_eio_rbuf[65536];


ngx_str_t  ngx_socketio_reasons[] = {
    ngx_string("transport close"),
    ngx_string("transport error"),
    ngx_string("ping timeout"),
    ngx_string("parse error"),
    ngx_string("forced close"),
    ngx_string("server shutting down"),
    ngx_string("slow consumer")
};


void
ngx_socketio_eio_init(ngx_socketio_eio_message_pt message,
    ngx_socketio_eio_close_pt close)
{
    ngx_socketio_eio_on_message = message;
    ngx_socketio_eio_on_close = close;

    ngx_socketio_eio_flush_event.handler = ngx_socketio_eio_flush_handler;
    ngx_socketio_eio_flush_event.log = ngx_cycle->log;
    ngx_socketio_eio_flush_event.data = NULL;

    /* every session pings with the same frame: no allocation per ping */

    if (ngx_socketio_eio_ping == NULL) {
        ngx_socketio_eio_ping = ngx_socketio_frame_text((u_char *) "2", 1);
    }
}


ngx_socketio_conn_t *
ngx_socketio_eio_create(ngx_connection_t *c, ngx_socketio_eio_conf_t *conf,
    ngx_str_t *accept, void *data)
{
    u_char                *p;
    u_char                 sid[NGX_SOCKETIO_SID_LEN];
    ngx_socketio_conn_t   *conn;
    ngx_socketio_wbuf_t    b;
    ngx_socketio_frame_t  *f;

    static u_char  head[] = "HTTP/1.1 101 Switching Protocols\r\n"
                            "Upgrade: websocket\r\n"
                            "Connection: Upgrade\r\n"
                            "Sec-WebSocket-Accept: ";

    conn = ngx_calloc(sizeof(ngx_socketio_conn_t), c->log);
    if (conn == NULL) {
        return NULL;
    }

    conn->connection = c;
    conn->fd = c->fd;
#if (NGX_SSL)
    conn->ssl = (c->ssl != NULL);
#endif
    conn->blocked = !c->write->ready;
    conn->conf = conf;
    conn->data = data;
    conn->out_last = &conn->out;

    /*
     * The 101 response (the header set and order of Node's ws) and the
     * open packet go out as one write.
     */

    ngx_socketio_id_base64id(sid);

    if (ngx_socketio_wbuf_init(&b, 256) != NGX_OK) {
        ngx_free(conn);
        return NULL;
    }

    ngx_socketio_wbuf_add(&b, head, sizeof(head) - 1);
    ngx_socketio_wbuf_add(&b, accept->data, accept->len);
    ngx_socketio_wbuf_str(&b, "\r\n\r\n");

    /* room for the open packet's frame header, filled in below */

    ngx_socketio_wbuf_add(&b, "\0\0\0\0", 4);
    p = b.pos;

    ngx_socketio_packet_open(&b, sid, conf->ping_interval, conf->ping_timeout,
                             conf->max_payload);

    if (b.failed) {
        ngx_socketio_wbuf_free(&b);
        ngx_free(conn);
        return NULL;
    }

    /* the open packet is 100-130 bytes: a 2-byte or 4-byte header */

    {
        size_t   len, hlen, off;
        u_char   hdr[NGX_SOCKETIO_WS_MAX_OUT_HEADER];

        len = b.pos - p;
        hlen = ngx_socketio_ws_header(hdr, NGX_SOCKETIO_WS_TEXT, len);
        off = (p - b.start) - 4;

        ngx_memmove(b.start + off + hlen, p, len);
        ngx_memcpy(b.start + off, hdr, hlen);
        b.pos = b.start + off + hlen + len;
    }

    f = ngx_socketio_frame_raw(b.start, b.pos - b.start);
    ngx_socketio_wbuf_free(&b);

    if (f == NULL) {
        ngx_free(conn);
        return NULL;
    }

    if (ngx_socketio_eio_enqueue(conn, f) != NGX_OK) {
        ngx_socketio_frame_release(f);
        ngx_free(conn);
        return NULL;
    }

    ngx_socketio_frame_release(f);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "socketio session %*s", (size_t) NGX_SOCKETIO_SID_LEN, sid);

    return conn;
}


void
ngx_socketio_eio_abort(ngx_socketio_conn_t *conn)
{
    ngx_socketio_eio_free_queue(conn);
    ngx_free(conn);
}


void
ngx_socketio_eio_start(ngx_socketio_conn_t *conn, u_char *pipelined,
    size_t len)
{
    ngx_connection_t  *c;

    c = conn->connection;

    c->data = conn;
    c->read->handler = ngx_socketio_eio_read_handler;
    c->write->handler = ngx_socketio_eio_write_handler;
    c->log->action = "handling Engine.IO session";

    /*
     * A long-lived session must not keep an exiting worker alive:
     * "idle" lets ngx_close_idle_connections() reach it on reload and
     * quit, and its timers are cancelable.
     */

    c->idle = 1;
    c->read->cancelable = 1;
    c->write->cancelable = 1;

    ngx_socketio_stats->connections++;
    ngx_socketio_stats->connections_total++;

    conn->heartbeat = ngx_current_msec + conn->conf->ping_interval;
    conn->connect_deadline = ngx_current_msec + conn->conf->connect_timeout;

    if (conn->connect_deadline == 0) {
        conn->connect_deadline = 1;
    }

    ngx_socketio_eio_arm(conn);

    if (ngx_socketio_eio_flush(conn) != NGX_OK) {
        ngx_socketio_eio_shutdown(conn, NGX_SOCKETIO_REASON_TRANSPORT_ERROR,
                                  NULL, 0);
        ngx_socketio_eio_finalize(conn);
        return;
    }

    /*
     * frames a client sent before it saw the 101: handled in the caller's
     * copy, which may be larger than the read buffer
     */

    if (len) {
        if (ngx_socketio_eio_frames(conn, pipelined, len) != NGX_OK) {
            return;
        }

        if (conn->closing) {
            ngx_socketio_eio_closing(conn);
            return;
        }
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_socketio_eio_shutdown(conn, NGX_SOCKETIO_REASON_TRANSPORT_ERROR,
                                  NULL, 0);
        ngx_socketio_eio_finalize(conn);
        return;
    }

    if (c->read->ready) {
        ngx_post_event(c->read, &ngx_posted_events);
    }
}


static void
ngx_socketio_eio_read_handler(ngx_event_t *rev)
{
    ssize_t               n;
    ngx_connection_t     *c;
    ngx_socketio_conn_t  *conn;

    c = rev->data;
    conn = c->data;

    if (conn->close_posted) {
        conn->close_posted = 0;

        if (!conn->closing) {
            /* a slow consumer: its queue is dropped, nothing more is sent */
            ngx_socketio_eio_shutdown(conn, conn->close_reason, NULL, 0);
            ngx_socketio_eio_finalize(conn);
            return;
        }
    }

    if (c->close) {
        /* reload, quit, or out of worker_connections */

        if (conn->closing) {
            ngx_socketio_eio_finalize(conn);
            return;
        }

        ngx_socketio_eio_close(conn, NGX_SOCKETIO_REASON_SHUTTING_DOWN,
                               NGX_SOCKETIO_WS_GOING_AWAY);
        (void) ngx_socketio_eio_flush(conn);
        ngx_socketio_eio_finalize(conn);
        return;
    }

    if (conn->closing) {
        ngx_socketio_eio_closing(conn);
        return;
    }

    if (rev->timedout) {
        rev->timedout = 0;

        if (ngx_socketio_eio_heartbeat(conn) != NGX_OK) {
            return;
        }

        if (conn->closing) {
            ngx_socketio_eio_closing(conn);
            return;
        }
    }

    while (rev->ready) {

        if (conn->in) {
            n = c->recv(c, conn->in->data + conn->in->len,
                        conn->in->size - conn->in->len);

        } else {
            n = c->recv(c, ngx_socketio_eio_rbuf,
                        sizeof(ngx_socketio_eio_rbuf));
        }

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == NGX_ERROR || n == 0) {
            ngx_socketio_eio_shutdown(conn,
                                      NGX_SOCKETIO_REASON_TRANSPORT_CLOSE,
                                      NULL, 0);
            ngx_socketio_eio_finalize(conn);
            return;
        }

        ngx_socketio_stats->bytes_in += n;

        if (conn->in) {
            conn->in->len += n;

            if (ngx_socketio_eio_partial(conn) != NGX_OK) {
                return;
            }

        } else if (ngx_socketio_eio_frames(conn, ngx_socketio_eio_rbuf, n)
                   != NGX_OK)
        {
            return;
        }

        if (conn->closing) {
            ngx_socketio_eio_closing(conn);
            return;
        }
    }

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_socketio_eio_shutdown(conn, NGX_SOCKETIO_REASON_TRANSPORT_ERROR,
                                  NULL, 0);
        ngx_socketio_eio_finalize(conn);
    }
}


/*
 * Complete frames are handled where they lie; the tail of a frame that
 * is not all here yet is kept for the next read.  NGX_OK: carry on
 * (the session may be closing); NGX_ERROR: the session is gone.
 */

/*
 * The message size limit is on data: the fragments of a message add up,
 * control frames between them do not count (as in Node's ws).
 */

static ngx_uint_t
ngx_socketio_eio_too_big(ngx_socketio_conn_t *conn, ngx_socketio_ws_frame_t *f)
{
    return f->opcode == NGX_SOCKETIO_WS_CONT
           && f->payload_len > conn->conf->max_payload - conn->msg_len;
}


static ngx_int_t
ngx_socketio_eio_frames(ngx_socketio_conn_t *conn, u_char *p, size_t len)
{
    size_t                   total;
    ngx_int_t                rc;
    ngx_uint_t               code;
    ngx_socketio_ws_frame_t  f;

    while (len && !conn->closing) {

        rc = ngx_socketio_ws_parse_header(p, len, conn->conf->max_payload, &f,
                                          &code);

        if (rc == NGX_OK && ngx_socketio_eio_too_big(conn, &f)) {
            rc = NGX_ERROR;
            code = NGX_SOCKETIO_WS_TOO_BIG;
        }

        if (rc == NGX_AGAIN) {
            return ngx_socketio_eio_keep(conn, p, len,
                                         NGX_SOCKETIO_WS_MAX_HEADER);
        }

        if (rc == NGX_ERROR) {
            ngx_log_error(NGX_LOG_INFO, conn->connection->log, 0,
                          "socketio: bad WebSocket frame, closing with %ui",
                          code);
            ngx_socketio_stats->protocol_errors++;
            ngx_socketio_eio_close(conn, NGX_SOCKETIO_REASON_TRANSPORT_ERROR,
                                   code);
            return NGX_OK;
        }

        total = f.header_len + f.payload_len;

        if (len < total) {
            return ngx_socketio_eio_keep(conn, p, len, total);
        }

        ngx_socketio_ws_unmask(p + f.header_len, f.payload_len, f.mask, 0);

        rc = ngx_socketio_eio_frame(conn, &f, p + f.header_len,
                                    f.payload_len);
        if (rc != NGX_OK) {
            return rc;
        }

        p += total;
        len -= total;
    }

    return NGX_OK;
}


/* keeps len bytes of a frame that needs "need" bytes in all */

static ngx_int_t
ngx_socketio_eio_keep(ngx_socketio_conn_t *conn, u_char *p, size_t len,
    size_t need)
{
    ngx_socketio_in_t  *in;

    in = ngx_alloc(offsetof(ngx_socketio_in_t, data) + need,
                   conn->connection->log);
    if (in == NULL) {
        ngx_socketio_eio_close(conn, NGX_SOCKETIO_REASON_TRANSPORT_ERROR,
                               NGX_SOCKETIO_WS_TOO_BIG);
        return NGX_OK;
    }

    in->size = need;
    in->len = len;
    ngx_memcpy(in->data, p, len);

    conn->in = in;

    return NGX_OK;
}


/* more bytes of the kept frame have come */

static ngx_int_t
ngx_socketio_eio_partial(ngx_socketio_conn_t *conn)
{
    size_t                   total;
    ngx_int_t                rc;
    ngx_uint_t               code;
    ngx_socketio_in_t       *in, *bigger;
    ngx_socketio_ws_frame_t  f;

    in = conn->in;

    rc = ngx_socketio_ws_parse_header(in->data, in->len,
                                      conn->conf->max_payload, &f, &code);

    if (rc == NGX_OK && ngx_socketio_eio_too_big(conn, &f)) {
        rc = NGX_ERROR;
        code = NGX_SOCKETIO_WS_TOO_BIG;
    }

    if (rc == NGX_AGAIN) {
        return NGX_OK;
    }

    if (rc == NGX_ERROR) {
        ngx_log_error(NGX_LOG_INFO, conn->connection->log, 0,
                      "socketio: bad WebSocket frame, closing with %ui", code);
        ngx_socketio_stats->protocol_errors++;
        ngx_socketio_eio_close(conn, NGX_SOCKETIO_REASON_TRANSPORT_ERROR,
                               code);
        return NGX_OK;
    }

    total = f.header_len + f.payload_len;

    if (in->len < total) {

        if (in->size < total) {
            /* the header is complete now: room for the whole frame */

            bigger = ngx_alloc(offsetof(ngx_socketio_in_t, data) + total,
                               conn->connection->log);
            if (bigger == NULL) {
                ngx_socketio_eio_close(conn,
                                       NGX_SOCKETIO_REASON_TRANSPORT_ERROR,
                                       NGX_SOCKETIO_WS_TOO_BIG);
                return NGX_OK;
            }

            bigger->size = total;
            bigger->len = in->len;
            ngx_memcpy(bigger->data, in->data, in->len);

            ngx_free(in);
            conn->in = bigger;
        }

        return NGX_OK;
    }

    /* the frame is complete; what was read past it is handled after */

    conn->in = NULL;

    ngx_socketio_ws_unmask(in->data + f.header_len, f.payload_len, f.mask, 0);

    rc = ngx_socketio_eio_frame(conn, &f, in->data + f.header_len,
                                f.payload_len);

    if (rc == NGX_OK && in->len > total && !conn->closing) {
        rc = ngx_socketio_eio_frames(conn, in->data + total, in->len - total);
    }

    ngx_free(in);

    return rc;
}


static ngx_int_t
ngx_socketio_eio_frame(ngx_socketio_conn_t *conn, ngx_socketio_ws_frame_t *f,
    u_char *p, size_t len)
{
    u_char      *msg, pong[2 + 125];
    ngx_int_t    rc;
    ngx_uint_t   code;

    switch (f->opcode) {

    case NGX_SOCKETIO_WS_TEXT:
    case NGX_SOCKETIO_WS_BINARY:

        if (conn->msg) {
            /* a new message inside a fragmented one */
            goto protocol_error;
        }

        if (f->fin) {
            return ngx_socketio_eio_message(conn, f->opcode, p, len);
        }

        conn->msg = ngx_alloc(len ? len : 1, conn->connection->log);
        if (conn->msg == NULL) {
            goto too_big;
        }

        ngx_memcpy(conn->msg, p, len);
        conn->msg_len = len;
        conn->msg_opcode = f->opcode;

        return NGX_OK;

    case NGX_SOCKETIO_WS_CONT:

        if (conn->msg == NULL) {
            goto protocol_error;
        }

        /* the frame header check kept the sum under max_payload */

        if (len) {
            msg = ngx_alloc(conn->msg_len + len, conn->connection->log);
            if (msg == NULL) {
                goto too_big;
            }

            ngx_memcpy(msg, conn->msg, conn->msg_len);
            ngx_memcpy(msg + conn->msg_len, p, len);

            ngx_free(conn->msg);
            conn->msg = msg;
            conn->msg_len += len;
        }

        if (!f->fin) {
            return NGX_OK;
        }

        msg = conn->msg;
        len = conn->msg_len;

        conn->msg = NULL;
        conn->msg_len = 0;

        rc = ngx_socketio_eio_message(conn, conn->msg_opcode, msg, len);

        ngx_free(msg);

        return rc;

    case NGX_SOCKETIO_WS_CLOSE:

        if (ngx_socketio_ws_check_close(p, len, &code) != NGX_OK) {
            ngx_socketio_stats->protocol_errors++;
            ngx_socketio_eio_close(conn, NGX_SOCKETIO_REASON_TRANSPORT_ERROR,
                                   code);
            return NGX_OK;
        }

        /* the answer carries the same status and reason (PROTOCOL 1.3) */

        pong[0] = 0x80 | NGX_SOCKETIO_WS_CLOSE;
        pong[1] = (u_char) len;
        ngx_memcpy(pong + 2, p, len);

        ngx_socketio_eio_shutdown(conn, NGX_SOCKETIO_REASON_TRANSPORT_CLOSE,
                                  pong, 2 + len);
        return NGX_OK;

    case NGX_SOCKETIO_WS_PING:
        pong[0] = 0x80 | NGX_SOCKETIO_WS_PONG;
        pong[1] = (u_char) len;
        ngx_memcpy(pong + 2, p, len);

        {
            ngx_socketio_frame_t  *fr;

            fr = ngx_socketio_frame_raw(pong, 2 + len);
            if (fr == NULL) {
                goto too_big;
            }

            (void) ngx_socketio_eio_send(conn, fr, 0);
            ngx_socketio_frame_release(fr);
        }

        return NGX_OK;

    default: /* NGX_SOCKETIO_WS_PONG */
        return NGX_OK;
    }

protocol_error:

    ngx_log_error(NGX_LOG_INFO, conn->connection->log, 0,
                  "socketio: bad WebSocket fragmentation");
    ngx_socketio_stats->protocol_errors++;
    ngx_socketio_eio_close(conn, NGX_SOCKETIO_REASON_TRANSPORT_ERROR,
                           NGX_SOCKETIO_WS_PROTOCOL_ERROR);
    return NGX_OK;

too_big:

    ngx_socketio_eio_close(conn, NGX_SOCKETIO_REASON_TRANSPORT_ERROR,
                           NGX_SOCKETIO_WS_TOO_BIG);
    return NGX_OK;
}


/* one complete WebSocket message: an Engine.IO packet */

static ngx_int_t
ngx_socketio_eio_message(ngx_socketio_conn_t *conn, ngx_uint_t opcode,
    u_char *p, size_t len)
{
    ngx_str_t   src, dst;

    ngx_socketio_stats->messages_in++;

    if (opcode == NGX_SOCKETIO_WS_BINARY) {
        /* v4: a binary message is a message packet of raw bytes */
        ngx_socketio_eio_on_message(conn, p, len, 1);
        return NGX_OK;
    }

    if (ngx_socketio_utf8_valid(p, len) != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, conn->connection->log, 0,
                      "socketio: invalid UTF-8 in a text message");
        ngx_socketio_stats->protocol_errors++;
        ngx_socketio_eio_close(conn, NGX_SOCKETIO_REASON_TRANSPORT_ERROR,
                               NGX_SOCKETIO_WS_INVALID_DATA);
        return NGX_OK;
    }

    if (len == 0) {
        goto parse_error;
    }

    /* engine.io 6.6.10+: another packet extends a running ping timeout once */

    if (conn->ping_sent && !conn->ping_extended
        && p[0] != NGX_SOCKETIO_EIO_PONG)
    {
        conn->ping_extended = 1;
        conn->heartbeat = ngx_current_msec + conn->conf->ping_timeout;
        ngx_socketio_eio_arm(conn);
    }

    switch (p[0]) {

    case NGX_SOCKETIO_EIO_MESSAGE:
        ngx_socketio_eio_on_message(conn, p + 1, len - 1, 0);
        return NGX_OK;

    case NGX_SOCKETIO_EIO_PONG:
        conn->ping_sent = 0;
        conn->heartbeat = ngx_current_msec + conn->conf->ping_interval;
        ngx_socketio_eio_arm(conn);
        return NGX_OK;

    case NGX_SOCKETIO_EIO_PING:
        /* v4: only the server pings ("invalid heartbeat direction") */
        ngx_log_error(NGX_LOG_INFO, conn->connection->log, 0,
                      "socketio: client sent an Engine.IO ping");
        ngx_socketio_stats->protocol_errors++;
        ngx_socketio_eio_close(conn, NGX_SOCKETIO_REASON_TRANSPORT_ERROR, 0);
        return NGX_OK;

    case NGX_SOCKETIO_EIO_OPEN:
    case NGX_SOCKETIO_EIO_CLOSE:
    case NGX_SOCKETIO_EIO_UPGRADE:
    case NGX_SOCKETIO_EIO_NOOP:
        /* Node ignores these over WebSocket (PROTOCOL 1.7) */
        return NGX_OK;

    case 'b':
        /* a binary message as base64 text: Node takes it, so do we */

        src.data = p + 1;
        src.len = len - 1;

        dst.data = ngx_alloc(ngx_base64_decoded_length(src.len) + 1,
                             conn->connection->log);
        if (dst.data == NULL) {
            ngx_socketio_eio_close(conn, NGX_SOCKETIO_REASON_TRANSPORT_ERROR,
                                   0);
            return NGX_OK;
        }

        if (ngx_decode_base64(&dst, &src) != NGX_OK) {
            ngx_free(dst.data);
            goto parse_error;
        }

        ngx_socketio_eio_on_message(conn, dst.data, dst.len, 1);
        ngx_free(dst.data);
        return NGX_OK;

    default:
        break;
    }

parse_error:

    ngx_log_error(NGX_LOG_INFO, conn->connection->log, 0,
                  "socketio: unknown Engine.IO packet");
    ngx_socketio_stats->protocol_errors++;
    ngx_socketio_eio_close(conn, NGX_SOCKETIO_REASON_PARSE_ERROR, 0);

    return NGX_OK;
}


/* the timer: send a ping, or give up on the pong or the first CONNECT */

static ngx_int_t
ngx_socketio_eio_heartbeat(ngx_socketio_conn_t *conn)
{
    ngx_msec_t  now;

    now = ngx_current_msec;

    if (conn->connect_deadline
        && (ngx_msec_int_t) (now - conn->connect_deadline) >= 0)
    {
        ngx_log_error(NGX_LOG_INFO, conn->connection->log, 0,
                      "socketio: no namespace joined in time");
        ngx_socketio_eio_close(conn, NGX_SOCKETIO_REASON_FORCED_CLOSE, 0);
        return NGX_OK;
    }

    if ((ngx_msec_int_t) (now - conn->heartbeat) >= 0) {

        if (conn->ping_sent) {
            ngx_log_error(NGX_LOG_INFO, conn->connection->log, 0,
                          "socketio: ping timeout");
            ngx_socketio_eio_close(conn, NGX_SOCKETIO_REASON_PING_TIMEOUT, 0);
            return NGX_OK;
        }

        (void) ngx_socketio_eio_send(conn, ngx_socketio_eio_ping, 0);

        conn->ping_sent = 1;
        conn->ping_extended = 0;
        conn->heartbeat = now + conn->conf->ping_timeout;
    }

    ngx_socketio_eio_arm(conn);

    return NGX_OK;
}


/* one timer per session: the nearest of the heartbeat and connect deadline */

static void
ngx_socketio_eio_arm(ngx_socketio_conn_t *conn)
{
    ngx_msec_t      at;
    ngx_msec_int_t  delay;

    at = conn->heartbeat;

    if (conn->connect_deadline
        && (ngx_msec_int_t) (conn->connect_deadline - at) < 0)
    {
        at = conn->connect_deadline;
    }

    delay = (ngx_msec_int_t) (at - ngx_current_msec);

    ngx_add_timer(conn->connection->read, delay > 0 ? (ngx_msec_t) delay : 1);
}


void
ngx_socketio_eio_connected(ngx_socketio_conn_t *conn)
{
    if (conn->connect_deadline) {
        conn->connect_deadline = 0;
        ngx_socketio_eio_arm(conn);
    }
}


ngx_int_t
ngx_socketio_eio_send(ngx_socketio_conn_t *conn, ngx_socketio_frame_t *frame,
    ngx_uint_t flags)
{
    if (conn->closing || conn->close_posted) {
        return NGX_DECLINED;
    }

    /*
     * volatile: only to a client whose transport is writable now; what
     * this event loop turn queued does not count, a full socket does
     */

    if ((flags & NGX_SOCKETIO_EIO_VOLATILE) && conn->out
        && conn->blocked)
    {
        ngx_socketio_stats->dropped_volatile++;
        return NGX_DECLINED;
    }

    /*
     * The bound is on the backlog the client leaves unread: a burst that
     * queues more in one event loop turn is first written out, as far as
     * the socket takes it.  A single frame larger than the bound still
     * goes to a client that has nothing pending.
     */

    if (conn->out && conn->out_bytes + frame->len > conn->conf->send_queue
        && !conn->blocked)
    {
        if (ngx_socketio_eio_flush(conn) != NGX_OK) {
            ngx_socketio_eio_close_posted(conn,
                                          NGX_SOCKETIO_REASON_TRANSPORT_ERROR);
            return NGX_DECLINED;
        }
    }

    if (conn->out && conn->out_bytes + frame->len > conn->conf->send_queue) {

        if (flags & NGX_SOCKETIO_EIO_VOLATILE) {
            ngx_socketio_stats->dropped_volatile++;
            return NGX_DECLINED;
        }

        ngx_log_error(NGX_LOG_WARN, conn->connection->log, 0,
                      "socketio: closing a slow consumer, %uz bytes queued",
                      conn->out_bytes);

        ngx_socketio_stats->slow_consumers++;
        ngx_socketio_eio_close_posted(conn, NGX_SOCKETIO_REASON_SLOW_CONSUMER);

        return NGX_DECLINED;
    }

    if (ngx_socketio_eio_enqueue(conn, frame) != NGX_OK) {
        ngx_socketio_eio_close_posted(conn,
                                      NGX_SOCKETIO_REASON_TRANSPORT_ERROR);
        return NGX_DECLINED;
    }

    ngx_socketio_stats->messages_out++;

    ngx_socketio_eio_schedule(conn);

    return NGX_OK;
}


ngx_int_t
ngx_socketio_eio_send_text(ngx_socketio_conn_t *conn, u_char *p, size_t len)
{
    ngx_int_t              rc;
    ngx_socketio_frame_t  *f;

    f = ngx_socketio_frame_text(p, len);
    if (f == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_socketio_eio_send(conn, f, 0);

    ngx_socketio_frame_release(f);

    return rc;
}


static ngx_int_t
ngx_socketio_eio_enqueue(ngx_socketio_conn_t *conn,
    ngx_socketio_frame_t *frame)
{
    ngx_uint_t            i;
    ngx_socketio_link_t  *l;

    /* links come from a free list: queueing a reference never mallocs */

    if (ngx_socketio_eio_free_links == NULL) {
        l = ngx_alloc(NGX_SOCKETIO_EIO_LINKS * sizeof(ngx_socketio_link_t),
                      ngx_cycle->log);
        if (l == NULL) {
            return NGX_ERROR;
        }

        for (i = 0; i < NGX_SOCKETIO_EIO_LINKS; i++) {
            l[i].next = ngx_socketio_eio_free_links;
            ngx_socketio_eio_free_links = &l[i];
        }
    }

    l = ngx_socketio_eio_free_links;
    ngx_socketio_eio_free_links = l->next;

    l->next = NULL;
    l->frame = frame;
    ngx_socketio_frame_ref(frame);

    *conn->out_last = l;
    conn->out_last = &l->next;
    conn->out_bytes += frame->len;

    return NGX_OK;
}


/* writes are coalesced: one writev() per session per event loop turn */

static void
ngx_socketio_eio_schedule(ngx_socketio_conn_t *conn)
{
    if (conn->flush_posted) {
        return;
    }

    conn->flush_posted = 1;
    conn->flush_next = ngx_socketio_eio_flush_list;
    ngx_socketio_eio_flush_list = conn;

    if (!ngx_socketio_eio_flush_event.posted) {
        ngx_post_event(&ngx_socketio_eio_flush_event, &ngx_posted_events);
    }
}


static void
ngx_socketio_eio_flush_handler(ngx_event_t *ev)
{
    ngx_socketio_conn_t  *conn;

    while (ngx_socketio_eio_flush_list) {
        conn = ngx_socketio_eio_flush_list;
        ngx_socketio_eio_flush_list = conn->flush_next;

        conn->flush_posted = 0;
        conn->flush_next = NULL;

        if (conn->blocked) {
            /* the write handler takes over when the socket drains */
            continue;
        }

        ngx_socketio_eio_write(conn);
    }
}


static void
ngx_socketio_eio_write_handler(ngx_event_t *wev)
{
    ngx_connection_t     *c;
    ngx_socketio_conn_t  *conn;

    c = wev->data;
    conn = c->data;

    if (wev->timedout) {
        wev->timedout = 0;
    }

    conn->blocked = !wev->ready;

    ngx_socketio_eio_write(conn);
}


/* writes what is queued; a closing session closes once all is out */

static void
ngx_socketio_eio_write(ngx_socketio_conn_t *conn)
{
    if (ngx_socketio_eio_flush(conn) != NGX_OK) {
        ngx_socketio_eio_shutdown(conn, NGX_SOCKETIO_REASON_TRANSPORT_ERROR,
                                  NULL, 0);
        ngx_socketio_eio_finalize(conn);
        return;
    }

    if (conn->closing && conn->out == NULL) {
        ngx_socketio_eio_closing(conn);
    }
}


static void
ngx_socketio_eio_consume(ngx_socketio_conn_t *conn, size_t n)
{
    size_t                left;
    ngx_socketio_link_t  *l;

    conn->out_bytes -= n;

    while (n) {
        l = conn->out;
        left = l->frame->len - conn->out_sent;

        if (n < left) {
            conn->out_sent += n;
            return;
        }

        n -= left;
        conn->out_sent = 0;
        conn->out = l->next;

        ngx_socketio_frame_release(l->frame);

        l->next = ngx_socketio_eio_free_links;
        ngx_socketio_eio_free_links = l;
    }

    if (conn->out == NULL) {
        conn->out_last = &conn->out;
    }
}


static ngx_int_t
ngx_socketio_eio_flush(ngx_socketio_conn_t *conn)
{
    size_t                total;
    ssize_t               n;
    ngx_err_t             err;
    ngx_uint_t            niov;
    ngx_connection_t     *c;
    ngx_socketio_link_t  *l;
    struct iovec          iov[NGX_SOCKETIO_EIO_IOVS];

    c = conn->connection;

    while (conn->out && !conn->blocked) {

#if (NGX_SSL)
        if (conn->ssl) {
            l = conn->out;

            n = c->send(c, l->frame->data + conn->out_sent,
                        l->frame->len - conn->out_sent);

            if (n == NGX_ERROR) {
                return NGX_ERROR;
            }

            if (n == NGX_AGAIN) {
                conn->blocked = 1;
                break;
            }

            ngx_socketio_stats->bytes_out += n;
            ngx_socketio_eio_consume(conn, n);
            continue;
        }
#endif

        total = 0;
        niov = 0;

        for (l = conn->out; l && niov < NGX_SOCKETIO_EIO_IOVS; l = l->next) {
            iov[niov].iov_base = l->frame->data;
            iov[niov].iov_len = l->frame->len;

            if (niov == 0) {
                iov[0].iov_base = l->frame->data + conn->out_sent;
                iov[0].iov_len -= conn->out_sent;
            }

            total += iov[niov].iov_len;
            niov++;
        }

        /*
         * one buffer, the common case at a steady rate: send() goes to
         * the socket directly, writev() through the file layer first
         */

        n = (niov == 1) ? send(conn->fd, iov[0].iov_base, iov[0].iov_len, 0)
                        : writev(conn->fd, iov, niov);

        if (n == -1) {
            err = ngx_socket_errno;

            if (err == NGX_EINTR) {
                continue;
            }

            if (err == NGX_EAGAIN) {
                c->write->ready = 0;
                conn->blocked = 1;
                break;
            }

            c->error = 1;

            ngx_log_error(NGX_LOG_INFO, c->log, err,
                          "socketio: writev() failed");
            return NGX_ERROR;
        }

        ngx_socketio_stats->bytes_out += n;

        ngx_socketio_eio_consume(conn, n);

        if ((size_t) n < total) {
            /* the socket buffer is full: epoll says when it drains */
            c->write->ready = 0;
            conn->blocked = 1;
            break;
        }
    }

    if (conn->out && ngx_handle_write_event(c->write, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_socketio_eio_close(ngx_socketio_conn_t *conn, ngx_socketio_reason_e reason,
    ngx_uint_t code)
{
    u_char  frame[4];

    frame[0] = 0x80 | NGX_SOCKETIO_WS_CLOSE;

    if (code == 0) {
        /* Engine.IO reasons: a close frame without status */
        frame[1] = 0;
        ngx_socketio_eio_shutdown(conn, reason, frame, 2);
        return;
    }

    frame[1] = 2;
    frame[2] = (u_char) (code >> 8);
    frame[3] = (u_char) code;

    ngx_socketio_eio_shutdown(conn, reason, frame, 4);
}


void
ngx_socketio_eio_close_posted(ngx_socketio_conn_t *conn,
    ngx_socketio_reason_e reason)
{
    ngx_event_t  *rev;

    if (conn->closing || conn->close_posted) {
        return;
    }

    conn->close_posted = 1;
    conn->close_reason = reason;

    rev = conn->connection->read;

    if (!rev->posted) {
        ngx_post_event(rev, &ngx_posted_events);
    }
}


/*
 * The session ends: the upper layer forgets it now, then the close frame
 * (if any) goes out after what is queued.  Never frees the session: the
 * caller's handler does, or the closing state does later.
 */

static void
ngx_socketio_eio_shutdown(ngx_socketio_conn_t *conn,
    ngx_socketio_reason_e reason, u_char *frame, size_t len)
{
    ngx_socketio_frame_t  *f;

    if (conn->closing) {
        return;
    }

    conn->closing = 1;
    conn->close_reason = reason;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, conn->connection->log, 0,
                   "socketio close: %V", &ngx_socketio_reasons[reason]);

    if (conn->data) {
        ngx_socketio_eio_on_close(conn, reason);
        conn->data = NULL;
    }

    if (conn->in) {
        ngx_free(conn->in);
        conn->in = NULL;
    }

    if (conn->msg) {
        ngx_free(conn->msg);
        conn->msg = NULL;
        conn->msg_len = 0;
    }

    /* a closing session waits for its peer this long at most */

    ngx_add_timer(conn->connection->read, NGX_SOCKETIO_EIO_LINGER);

    if (frame == NULL) {
        return;
    }

    f = ngx_socketio_frame_raw(frame, len);

    if (f == NULL || ngx_socketio_eio_enqueue(conn, f) != NGX_OK) {
        conn->lingering = 1;

    } else {
        ngx_socketio_eio_schedule(conn);
    }

    if (f) {
        ngx_socketio_frame_release(f);
    }
}


/*
 * A closing session: once its output is out, the write side is shut and
 * what the peer still sends is read and dropped until it closes (so that
 * the close frame is not lost to a reset), or the timer ends it.
 */

static void
ngx_socketio_eio_closing(ngx_socketio_conn_t *conn)
{
    ssize_t            n;
    ngx_event_t       *rev;
    ngx_connection_t  *c;

    c = conn->connection;
    rev = c->read;

    if (rev->timedout || c->error) {
        ngx_socketio_eio_finalize(conn);
        return;
    }

    if (conn->out == NULL && !conn->lingering) {
        conn->lingering = 1;

#if (NGX_SSL)
        if (c->ssl) {
            /* the TLS close_notify comes with closing the connection */
            ngx_socketio_eio_finalize(conn);
            return;
        }
#endif

        if (ngx_shutdown_socket(c->fd, NGX_WRITE_SHUTDOWN) == -1) {
            ngx_socketio_eio_finalize(conn);
            return;
        }
    }

    while (rev->ready) {
        n = c->recv(c, ngx_socketio_eio_rbuf, sizeof(ngx_socketio_eio_rbuf));

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == NGX_ERROR || n == 0) {
            ngx_socketio_eio_finalize(conn);
            return;
        }
    }

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_socketio_eio_finalize(conn);
    }
}


static void
ngx_socketio_eio_free_queue(ngx_socketio_conn_t *conn)
{
    ngx_socketio_link_t  *l;

    while (conn->out) {
        l = conn->out;
        conn->out = l->next;

        ngx_socketio_frame_release(l->frame);

        l->next = ngx_socketio_eio_free_links;
        ngx_socketio_eio_free_links = l;
    }

    conn->out_last = &conn->out;
    conn->out_bytes = 0;
    conn->out_sent = 0;
}


static void
ngx_socketio_eio_finalize(ngx_socketio_conn_t *conn)
{
    ngx_connection_t      *c;
    ngx_socketio_conn_t  **pp;

    c = conn->connection;

    if (conn->flush_posted) {
        for (pp = &ngx_socketio_eio_flush_list; *pp; pp = &(*pp)->flush_next) {
            if (*pp == conn) {
                *pp = conn->flush_next;
                break;
            }
        }
    }

    ngx_socketio_eio_free_queue(conn);

    if (conn->in) {
        ngx_free(conn->in);
    }

    if (conn->msg) {
        ngx_free(conn->msg);
    }

    ngx_socketio_stats->connections--;

    ngx_free(conn);

    c->data = NULL;

    ngx_http_close_connection(c);
}


ngx_int_t
ngx_socketio_eio_is_session(ngx_connection_t *c)
{
    return c->fd != (ngx_socket_t) -1
           && c->read
           && c->read->handler == ngx_socketio_eio_read_handler;
}


void
ngx_socketio_eio_close_all(ngx_cycle_t *cycle)
{
    ngx_uint_t            i;
    ngx_connection_t     *c;
    ngx_socketio_conn_t  *conn;

    c = cycle->connections;

    for (i = 0; i < cycle->connection_n; i++) {

        if (!ngx_socketio_eio_is_session(&c[i])) {
            continue;
        }

        conn = c[i].data;

        if (!conn->closing) {
            ngx_socketio_eio_close(conn, NGX_SOCKETIO_REASON_SHUTTING_DOWN,
                                   NGX_SOCKETIO_WS_GOING_AWAY);
            (void) ngx_socketio_eio_flush(conn);
        }

        ngx_socketio_eio_finalize(conn);
    }
}
