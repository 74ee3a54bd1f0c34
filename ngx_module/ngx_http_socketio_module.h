
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#ifndef _NGX_HTTP_SOCKETIO_MODULE_H_INCLUDED_
#define _NGX_HTTP_SOCKETIO_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_socketio.h"
#include "ngx_socketio_eio.h"
#include "ngx_socketio_socket.h"
#include "ngx_socketio_adapter.h"


typedef struct {
    ngx_socketio_adapter_conf_t   adapter;
    ngx_socketio_redis_conf_t     redis;
    size_t                        shm_size;
    ngx_shm_zone_t               *shm_zone;      /* NULL: not enabled */
    ngx_array_t                   namespaces;    /* ngx_str_t, of all */
    ngx_uint_t                    enabled;       /* a location uses it */
} ngx_http_socketio_main_conf_t;


typedef struct {
    ngx_str_t                     key;
    ngx_http_complex_value_t      value;
} ngx_http_socketio_data_t;


typedef struct {
    ngx_flag_t                    enable;
    ngx_socketio_eio_conf_t       eio;
    ngx_socketio_socket_conf_t    socket;
    ngx_array_t                  *join;          /* complex values */
    ngx_array_t                  *data;          /* socketio_data_t */
} ngx_http_socketio_loc_conf_t;


extern ngx_module_t  ngx_http_socketio_module;


#endif /* _NGX_HTTP_SOCKETIO_MODULE_H_INCLUDED_ */
