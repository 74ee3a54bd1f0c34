
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#ifndef _NGX_SOCKETIO_ID_H_INCLUDED_
#define _NGX_SOCKETIO_ID_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_socketio.h"


/*
 * Node's base64id (PROTOCOL 1.8): 12 random bytes with a per-process
 * counter written big-endian at offset 11, base64 with "-" and "_":
 * 20 characters.  Used for Engine.IO sids and Socket.IO socket ids.
 */
void ngx_socketio_id_base64id(u_char *out);

/* uid2(n): n characters, random byte mod 64 into A-Za-z0-9-_ */
void ngx_socketio_id_uid2(u_char *out, size_t n);

/* n random bytes from the kernel, buffered */
void ngx_socketio_id_random(u_char *out, size_t n);


#endif /* _NGX_SOCKETIO_ID_H_INCLUDED_ */
