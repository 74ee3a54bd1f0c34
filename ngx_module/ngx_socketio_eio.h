
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#ifndef _NGX_SOCKETIO_EIO_H_INCLUDED_
#define _NGX_SOCKETIO_EIO_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include "ngx_socketio.h"
#include "ngx_socketio_frame.h"


/*
 * An Engine.IO v4 session over one WebSocket connection: the open packet,
 * the server-driven heartbeat, Engine.IO packet framing, a bounded output
 * queue of shared frames, and closing.  It knows nothing of namespaces:
 * Socket.IO messages go up through the handlers set with
 * ngx_socketio_eio_init().
 */


/* ngx_socketio_eio_send() flags */
#define NGX_SOCKETIO_EIO_VOLATILE  0x01


typedef struct {
    ngx_msec_t                 ping_interval;
    ngx_msec_t                 ping_timeout;
    ngx_msec_t                 connect_timeout;
    size_t                     max_payload;
    size_t                     send_queue;
} ngx_socketio_eio_conf_t;


typedef void (*ngx_socketio_eio_message_pt)(ngx_socketio_conn_t *conn,
    u_char *data, size_t len, ngx_uint_t binary);
typedef void (*ngx_socketio_eio_close_pt)(ngx_socketio_conn_t *conn,
    ngx_socketio_reason_e reason);


typedef struct ngx_socketio_link_s  ngx_socketio_link_t;
typedef struct ngx_socketio_in_s    ngx_socketio_in_t;


struct ngx_socketio_conn_s {
    ngx_connection_t          *connection;
    ngx_socketio_eio_conf_t   *conf;
    void                      *data;            /* the upper layer's */

    /* output: references to shared frames */
    ngx_socketio_link_t       *out;
    ngx_socketio_link_t      **out_last;
    size_t                     out_sent;        /* of the first frame */
    size_t                     out_bytes;       /* queued, not yet sent */
    ngx_socketio_conn_t       *flush_next;
    ngx_socket_t               fd;

    /* input: a partial frame, a fragmented message */
    ngx_socketio_in_t         *in;
    u_char                    *msg;
    size_t                     msg_len;

    ngx_msec_t                 heartbeat;       /* next ping, or its deadline */
    ngx_msec_t                 connect_deadline;

    unsigned                   msg_opcode:4;
    unsigned                   ping_sent:1;
    unsigned                   ping_extended:1;
    unsigned                   flush_posted:1;

    /*
     * the socket buffer was full and epoll has not said otherwise: the
     * write event's "ready", kept here so that a broadcast that reaches
     * ten thousand sessions does not touch ten thousand write events
     */
    unsigned                   blocked:1;
    unsigned                   ssl:1;           /* c->ssl, as blocked */
    unsigned                   closing:1;       /* no more output queued */
    unsigned                   close_posted:1;  /* a close waits its turn */
    unsigned                   close_reason:4;
    unsigned                   lingering:1;
};


void ngx_socketio_eio_init(ngx_socketio_eio_message_pt message,
    ngx_socketio_eio_close_pt close);

/*
 * Prepares the session of an upgraded connection: the 101 response and
 * the open packet are queued.  The caller switches the connection over
 * with ngx_socketio_eio_start() once the HTTP request is gone.
 */
ngx_socketio_conn_t *ngx_socketio_eio_create(ngx_connection_t *c,
    ngx_socketio_eio_conf_t *conf, ngx_str_t *accept, void *data);
void ngx_socketio_eio_start(ngx_socketio_conn_t *conn, u_char *pipelined,
    size_t len);

/* frees a session that never started */
void ngx_socketio_eio_abort(ngx_socketio_conn_t *conn);

/*
 * Queues a reference to frame.  NGX_OK: queued; NGX_DECLINED: dropped
 * (volatile while output is pending, or the session is closing); a
 * session over its send queue bound is closed as a slow consumer, after
 * the current event (the caller may be walking a room).
 */
ngx_int_t ngx_socketio_eio_send(ngx_socketio_conn_t *conn,
    ngx_socketio_frame_t *frame, ngx_uint_t flags);

/* queues a frame made of len bytes of text */
ngx_int_t ngx_socketio_eio_send_text(ngx_socketio_conn_t *conn, u_char *p,
    size_t len);

/*
 * Closes the session: the upper layer is told at once, queued output is
 * written, then a close frame with "code" (0: none, as Node does for
 * Engine.IO reasons), and the connection ends.
 */
void ngx_socketio_eio_close(ngx_socketio_conn_t *conn,
    ngx_socketio_reason_e reason, ngx_uint_t code);

/* the same, after the current event */
void ngx_socketio_eio_close_posted(ngx_socketio_conn_t *conn,
    ngx_socketio_reason_e reason);

/* a namespace was joined: the connect timeout no longer applies */
void ngx_socketio_eio_connected(ngx_socketio_conn_t *conn);

/* is this one of ours (for the exit handler and the status) */
ngx_int_t ngx_socketio_eio_is_session(ngx_connection_t *c);

/* closes every session of this worker (exit) */
void ngx_socketio_eio_close_all(ngx_cycle_t *cycle);


#endif /* _NGX_SOCKETIO_EIO_H_INCLUDED_ */
