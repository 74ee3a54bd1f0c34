
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#ifndef _NGX_SOCKETIO_OPS_H_INCLUDED_
#define _NGX_SOCKETIO_OPS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <jansson.h>
#include "ngx_socketio.h"
#include "ngx_socketio_json.h"
#include "ngx_socketio_msgpack.h"
#include "ngx_socketio_socket.h"


/*
 * What the cluster asks of this worker's sockets, whatever the adapter:
 * the socket.io-adapter operations (fetchSockets, allRooms, addSockets,
 * delSockets, disconnectSockets, broadcastWithAck) on local sockets.
 * Each adapter wraps requests and responses in its own envelopes.
 */


typedef struct {
    ngx_str_t                  *rooms;
    ngx_uint_t                  nrooms;
    ngx_str_t                  *except;
    ngx_uint_t                  nexcept;
} ngx_socketio_opts_t;


/* [{"id","handshake","rooms","data"}, ...] of the matching sockets */
ngx_uint_t ngx_socketio_ops_fetch(ngx_socketio_nsp_t *nsp,
    ngx_socketio_opts_t *opts, ngx_socketio_wbuf_t *b);

/* ["sid", ...] of the sockets in any of rooms (all when none) */
ngx_uint_t ngx_socketio_ops_sockets(ngx_socketio_nsp_t *nsp,
    ngx_socketio_opts_t *opts, ngx_socketio_wbuf_t *b);

/* ["room", ...]: every local room, the socket id rooms too */
void ngx_socketio_ops_rooms(ngx_socketio_nsp_t *nsp, ngx_socketio_wbuf_t *b);

ngx_uint_t ngx_socketio_ops_join(ngx_socketio_nsp_t *nsp,
    ngx_socketio_opts_t *opts, ngx_str_t *names, ngx_uint_t n);
ngx_uint_t ngx_socketio_ops_leave(ngx_socketio_nsp_t *nsp,
    ngx_socketio_opts_t *opts, ngx_str_t *names, ngx_uint_t n);
ngx_uint_t ngx_socketio_ops_disconnect(ngx_socketio_nsp_t *nsp,
    ngx_socketio_opts_t *opts, ngx_uint_t close);

/*
 * Delivers packet data (a msgpack array) with one new ack id to the
 * matching sockets and tracks their acks; returns how many were reached.
 */
ngx_int_t ngx_socketio_ops_broadcast_ack(ngx_socketio_nsp_t *nsp,
    ngx_socketio_opts_t *opts, ngx_socketio_mp_t *data, ngx_uint_t flags,
    ngx_socketio_ack_t *ack, ngx_uint_t *count);


#endif /* _NGX_SOCKETIO_OPS_H_INCLUDED_ */
