
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#ifndef _NGX_SOCKETIO_H_INCLUDED_
#define _NGX_SOCKETIO_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * Types shared by the subsystems of the module.  Each subsystem keeps its
 * own structures in its own header; only what crosses subsystem borders
 * is declared here.
 */

typedef struct ngx_socketio_frame_s    ngx_socketio_frame_t;
typedef struct ngx_socketio_conn_s     ngx_socketio_conn_t;
typedef struct ngx_socketio_client_s   ngx_socketio_client_t;
typedef struct ngx_socketio_socket_s   ngx_socketio_socket_t;
typedef struct ngx_socketio_nsp_s      ngx_socketio_nsp_t;
typedef struct ngx_socketio_room_s     ngx_socketio_room_t;
typedef struct ngx_socketio_member_s   ngx_socketio_member_t;
typedef struct ngx_socketio_redis_s    ngx_socketio_redis_t;


/* Engine.IO and Socket.IO ids: base64id, 20 characters */
#define NGX_SOCKETIO_SID_LEN        20

/* socket.io-parser 4.2.6+ refuses packets with more attachments */
#define NGX_SOCKETIO_MAX_ATTACHMENTS  10


/* Engine.IO close reasons, as Node reports them (PROTOCOL 1.7, 2.8) */
typedef enum {
    NGX_SOCKETIO_REASON_TRANSPORT_CLOSE = 0,
    NGX_SOCKETIO_REASON_TRANSPORT_ERROR,
    NGX_SOCKETIO_REASON_PING_TIMEOUT,
    NGX_SOCKETIO_REASON_PARSE_ERROR,
    NGX_SOCKETIO_REASON_FORCED_CLOSE,
    NGX_SOCKETIO_REASON_SHUTTING_DOWN,
    NGX_SOCKETIO_REASON_SLOW_CONSUMER
} ngx_socketio_reason_e;


extern ngx_str_t  ngx_socketio_reasons[];


#endif /* _NGX_SOCKETIO_H_INCLUDED_ */
