
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#ifndef _NGX_SOCKETIO_REDIS_H_INCLUDED_
#define _NGX_SOCKETIO_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>
#include <hiredis/hiredis.h>
#include "ngx_socketio.h"


/*
 * A Redis connection inside the nginx event loop.  nginx owns the socket
 * (ngx_event_connect_peer); hiredis only formats commands
 * (redisFormatCommandArgv) and parses replies (redisReader), so pushes of
 * every kind, sharded "smessage" included, are handled alike.  It knows
 * nothing of Socket.IO.
 */


typedef struct {
    ngx_str_t                     url;
    ngx_addr_t                    addr;
    ngx_str_t                     user;
    ngx_str_t                     password;
    ngx_uint_t                    db;
} ngx_socketio_redis_conf_t;


/* reply is NULL when the connection went away before the reply came */
typedef void (*ngx_socketio_redis_reply_pt)(ngx_socketio_redis_t *r,
    redisReply *reply, void *data);
typedef void (*ngx_socketio_redis_state_pt)(ngx_socketio_redis_t *r,
    ngx_uint_t up, void *data);


/* parses "redis://[[user]:password@]host[:port][/db]" or "unix:/path" */
char *ngx_socketio_redis_parse_url(ngx_conf_t *cf, ngx_str_t *url,
    ngx_socketio_redis_conf_t *rc);

/*
 * subscriber: the connection is used for (P|S)SUBSCRIBE; pushes go to
 * on_push, and so do the replies of ngx_socketio_redis_subscribe().
 */
ngx_socketio_redis_t *ngx_socketio_redis_create(ngx_socketio_redis_conf_t *rc,
    const char *role, ngx_uint_t subscriber,
    ngx_socketio_redis_state_pt on_state, ngx_socketio_redis_reply_pt on_push,
    void *data, ngx_log_t *log);
void ngx_socketio_redis_connect(ngx_socketio_redis_t *r);
void ngx_socketio_redis_destroy(ngx_socketio_redis_t *r);

ngx_int_t ngx_socketio_redis_ready(ngx_socketio_redis_t *r);

/*
 * Queues a command; the reply is matched in order.  NGX_DECLINED: the
 * connection is not up (requests fail fast while Redis is away).
 */
ngx_int_t ngx_socketio_redis_command(ngx_socketio_redis_t *r, int argc,
    const char **argv, const size_t *argvlen,
    ngx_socketio_redis_reply_pt handler, void *data);

/* a command whose replies come as pushes: (P|S)(UN)SUBSCRIBE */
ngx_int_t ngx_socketio_redis_subscribe(ngx_socketio_redis_t *r, int argc,
    const char **argv, const size_t *argvlen);


#endif /* _NGX_SOCKETIO_REDIS_H_INCLUDED_ */
