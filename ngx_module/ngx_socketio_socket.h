
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#ifndef _NGX_SOCKETIO_SOCKET_H_INCLUDED_
#define _NGX_SOCKETIO_SOCKET_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_socketio.h"
#include "ngx_socketio_eio.h"
#include "ngx_socketio_rooms.h"
#include <jansson.h>


/*
 * Socket.IO v5 over an Engine.IO session: a client (the connection) has
 * one socket per namespace it joined.  Sockets are what rooms hold.
 */


typedef struct {
    ngx_array_t                 *namespaces;     /* ngx_str_t */
} ngx_socketio_socket_conf_t;


typedef struct ngx_socketio_pending_s  ngx_socketio_pending_t;
typedef struct ngx_socketio_acks_s     ngx_socketio_acks_t;
typedef struct ngx_socketio_ack_s      ngx_socketio_ack_t;


/*
 * An ack the cluster waits for (a broadcast with acks): each target's
 * answer goes to the handler, with the first argument of the client's ack
 * (NULL when it had none).  Shared by the targets; it ends when its
 * timeout passes (or its creator lets go) and no target holds it.
 */

typedef void (*ngx_socketio_ack_pt)(ngx_socketio_ack_t *ack, json_t *arg,
    ngx_str_t *att, ngx_uint_t natt);

struct ngx_socketio_ack_s {
    ngx_uint_t                   refs;
    ngx_event_t                  timer;
    ngx_socketio_ack_pt          handler;
    unsigned                     expired:1;
};


struct ngx_socketio_client_s {
    ngx_socketio_conn_t         *conn;
    ngx_socketio_socket_conf_t  *conf;
    ngx_socketio_socket_t       *sockets;
    ngx_socketio_pending_t      *pending;        /* a binary packet */

    /* what the handshake decided, in one allocation with the client */
    ngx_str_t                    joins;          /* NUL-separated names */
    ngx_str_t                    data;           /* socket.data as JSON */
    ngx_str_t                    handshake;      /* handshake JSON, no auth */
};


struct ngx_socketio_socket_s {
    ngx_rbtree_node_t            node;           /* nsp->sockets by sid */
    ngx_queue_t                  queue;          /* nsp->all */
    ngx_socketio_nsp_t          *nsp;
    ngx_socketio_client_t       *client;
    ngx_socketio_socket_t       *next;           /* the client's sockets */
    ngx_socketio_member_t       *rooms;          /* join order, sid not in */
    u_char                      *auth;           /* CONNECT payload JSON */
    ngx_socketio_acks_t         *acks;           /* acks the cluster awaits */
    uint32_t                     mark;           /* target selection */
    uint32_t                     ticket;         /* waits for the adapter */
    unsigned                     connected:1;    /* CONNECT reply sent */
    u_char                       sid[NGX_SOCKETIO_SID_LEN];
};


void ngx_socketio_socket_init(void);

/*
 * A client for a connection being upgraded.  joins: room names;
 * data: the socket.data JSON; handshake: the handshake JSON without
 * "auth" and the closing brace (or empty).
 */
ngx_socketio_client_t *ngx_socketio_client_create(
    ngx_socketio_socket_conf_t *conf, ngx_str_t *joins, ngx_uint_t njoins,
    ngx_str_t *data, ngx_str_t *handshake, ngx_log_t *log);
void ngx_socketio_client_free(ngx_socketio_client_t *client);

/* a broadcast frame to one socket (the hot path) */
ngx_int_t ngx_socketio_socket_send(ngx_socketio_socket_t *s,
    ngx_socketio_frame_t *frame, ngx_uint_t flags);

/* the adapter confirmed what sockets waiting up to "ticket" need */
void ngx_socketio_socket_barrier(ngx_socketio_nsp_t *nsp, ngx_uint_t ticket);

/*
 * Server-side disconnect: "41" to the client; with close, for every
 * namespace of its connection, which then closes.
 */
void ngx_socketio_socket_disconnect(ngx_socketio_socket_t *s,
    ngx_uint_t close);

/* the client's ack with this id goes to ack's handler */
ngx_int_t ngx_socketio_socket_expect_ack(ngx_socketio_socket_t *s,
    uint64_t id, ngx_socketio_ack_t *ack);

/*
 * An ack with "size" bytes of the creator's data after it, ending after
 * timeout; ngx_socketio_ack_release() ends the creator's hold earlier.
 */
ngx_socketio_ack_t *ngx_socketio_ack_create(size_t size, ngx_msec_t timeout,
    ngx_socketio_ack_pt handler, ngx_log_t *log);
void ngx_socketio_ack_release(ngx_socketio_ack_t *ack);

#define ngx_socketio_ack_data(ack)  ((void *) ((ack) + 1))


#endif /* _NGX_SOCKETIO_SOCKET_H_INCLUDED_ */
