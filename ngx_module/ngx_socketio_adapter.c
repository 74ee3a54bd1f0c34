
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_socketio_adapter.h"


static ngx_socketio_adapter_t  *ngx_socketio_adapter;


ngx_int_t
ngx_socketio_adapter_init(ngx_cycle_t *cycle,
    ngx_socketio_adapter_conf_t *conf)
{
    if (conf->redis == NULL) {
        /* a standalone node: local rooms only */
        return NGX_OK;
    }

    switch (conf->kind) {

    case NGX_SOCKETIO_ADAPTER_CLASSIC:
        ngx_socketio_adapter = &ngx_socketio_adapter_classic;
        break;

    default:
        /* refused at configuration time */
        return NGX_ERROR;
    }

    return ngx_socketio_adapter->init(cycle, conf);
}


void
ngx_socketio_adapter_exit(ngx_cycle_t *cycle)
{
    if (ngx_socketio_adapter) {
        ngx_socketio_adapter->exit(cycle);
        ngx_socketio_adapter = NULL;
    }
}
