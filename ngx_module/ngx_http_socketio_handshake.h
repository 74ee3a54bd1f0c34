
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#ifndef _NGX_HTTP_SOCKETIO_HANDSHAKE_H_INCLUDED_
#define _NGX_HTTP_SOCKETIO_HANDSHAKE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/*
 * socket.handshake of the sockets of this request, as JSON without its
 * "auth" member and closing brace (PROTOCOL 2.9); allocated in r->pool
 */
ngx_int_t ngx_http_socketio_handshake(ngx_http_request_t *r, ngx_str_t *out);

/* a request header by name, case-insensitive */
ngx_table_elt_t *ngx_http_socketio_find_header(ngx_http_request_t *r,
    const char *name, size_t len);


#endif /* _NGX_HTTP_SOCKETIO_HANDSHAKE_H_INCLUDED_ */
