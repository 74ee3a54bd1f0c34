
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#ifndef _NGX_SOCKETIO_ADAPTER_H_INCLUDED_
#define _NGX_SOCKETIO_ADAPTER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_socketio.h"
#include "ngx_socketio_redis.h"


/*
 * How this worker takes part in the cluster.  One implementation per
 * cluster protocol (PROTOCOL 4, 6, 7), all behind this interface; each
 * worker is a node of its own (DESIGN 2).
 */


#define NGX_SOCKETIO_ADAPTER_CLASSIC     0
#define NGX_SOCKETIO_ADAPTER_SHARDED     1
#define NGX_SOCKETIO_ADAPTER_STREAMS     2

#define NGX_SOCKETIO_SUBSCRIBE_PATTERN   0
#define NGX_SOCKETIO_SUBSCRIBE_ROOMS     1


typedef struct {
    ngx_socketio_redis_conf_t  *redis;           /* NULL: standalone */
    ngx_uint_t                  kind;
    ngx_str_t                   key;
    ngx_uint_t                  subscribe;
    ngx_msec_t                  requests_timeout;
    ngx_flag_t                  specific_response_channel;
} ngx_socketio_adapter_conf_t;


typedef struct {
    ngx_int_t                 (*init)(ngx_cycle_t *cycle,
                                      ngx_socketio_adapter_conf_t *conf);
    void                      (*exit)(ngx_cycle_t *cycle);
} ngx_socketio_adapter_t;


extern ngx_socketio_adapter_t  ngx_socketio_adapter_classic;


ngx_int_t ngx_socketio_adapter_init(ngx_cycle_t *cycle,
    ngx_socketio_adapter_conf_t *conf);
void ngx_socketio_adapter_exit(ngx_cycle_t *cycle);


#endif /* _NGX_SOCKETIO_ADAPTER_H_INCLUDED_ */
