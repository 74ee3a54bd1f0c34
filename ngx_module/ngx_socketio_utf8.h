
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#ifndef _NGX_SOCKETIO_UTF8_H_INCLUDED_
#define _NGX_SOCKETIO_UTF8_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * Decodes one code point at p.  Returns the number of bytes consumed.
 * On an invalid sequence *cp is set to NGX_SOCKETIO_UTF8_INVALID and the
 * return value is the length of the maximal subpart (WHATWG "utf-8 decode",
 * which is what Node's Buffer.toString("utf8") does), so that a caller
 * replacing errors with U+FFFD produces exactly what Node would.
 */

#define NGX_SOCKETIO_UTF8_INVALID  0xffffffff

size_t ngx_socketio_utf8_next(const u_char *p, const u_char *end,
    uint32_t *cp);

/* strict RFC 3629 validation, as RFC 6455 requires for text messages */
ngx_int_t ngx_socketio_utf8_valid(const u_char *p, size_t len);


#endif /* _NGX_SOCKETIO_UTF8_H_INCLUDED_ */
