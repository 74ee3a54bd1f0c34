
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#ifndef _NGX_HTTP_SOCKETIO_STATUS_H_INCLUDED_
#define _NGX_HTTP_SOCKETIO_STATUS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/*
 * socketio_status: the instance-wide view of the shared memory zone, as
 * JSON or, with ?format=prometheus, as Prometheus text exposition.
 */

char *ngx_http_socketio_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* _NGX_HTTP_SOCKETIO_STATUS_H_INCLUDED_ */
