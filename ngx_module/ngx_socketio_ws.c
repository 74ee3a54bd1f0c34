
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_socketio_utf8.h"
#include "ngx_socketio_ws.h"


ngx_int_t
ngx_socketio_ws_parse_header(const u_char *p, size_t len,
    uint64_t max_payload, ngx_socketio_ws_frame_t *f, ngx_uint_t *code)
{
    size_t    need;
    uint64_t  n;

    if (len < 2) {
        return NGX_AGAIN;
    }

    f->fin = p[0] >> 7;
    f->opcode = p[0] & 0x0f;

    /* no extension is negotiated, so RSV1-3 must be zero */

    if (p[0] & 0x70) {
        *code = NGX_SOCKETIO_WS_PROTOCOL_ERROR;
        return NGX_ERROR;
    }

    switch (f->opcode) {

    case NGX_SOCKETIO_WS_CONT:
    case NGX_SOCKETIO_WS_TEXT:
    case NGX_SOCKETIO_WS_BINARY:
        break;

    case NGX_SOCKETIO_WS_CLOSE:
    case NGX_SOCKETIO_WS_PING:
    case NGX_SOCKETIO_WS_PONG:

        /* control frames are never fragmented and at most 125 bytes */

        if (!f->fin || (p[1] & 0x7f) > 125) {
            *code = NGX_SOCKETIO_WS_PROTOCOL_ERROR;
            return NGX_ERROR;
        }

        break;

    default:
        *code = NGX_SOCKETIO_WS_PROTOCOL_ERROR;
        return NGX_ERROR;
    }

    /* a client must mask every frame (RFC 6455 5.1) */

    if (!(p[1] & 0x80)) {
        *code = NGX_SOCKETIO_WS_PROTOCOL_ERROR;
        return NGX_ERROR;
    }

    n = p[1] & 0x7f;

    if (n == 126) {
        need = 2 + 2 + 4;

        if (len < need) {
            return NGX_AGAIN;
        }

        n = (uint64_t) p[2] << 8 | p[3];

    } else if (n == 127) {
        need = 2 + 8 + 4;

        if (len < need) {
            return NGX_AGAIN;
        }

        if (p[2] & 0x80) {
            *code = NGX_SOCKETIO_WS_PROTOCOL_ERROR;
            return NGX_ERROR;
        }

        n = (uint64_t) p[2] << 56 | (uint64_t) p[3] << 48
            | (uint64_t) p[4] << 40 | (uint64_t) p[5] << 32
            | (uint64_t) p[6] << 24 | (uint64_t) p[7] << 16
            | (uint64_t) p[8] << 8 | (uint64_t) p[9];

    } else {
        need = 2 + 4;

        if (len < need) {
            return NGX_AGAIN;
        }
    }

    /* the limit is on messages: control frames are bounded above */

    if (f->opcode < NGX_SOCKETIO_WS_CLOSE && n > max_payload) {
        *code = NGX_SOCKETIO_WS_TOO_BIG;
        return NGX_ERROR;
    }

    ngx_memcpy(f->mask, p + need - 4, 4);

    f->payload_len = n;
    f->header_len = need;

    return NGX_OK;
}


void
ngx_socketio_ws_unmask(u_char *p, size_t n, const u_char mask[4],
    uint64_t offset)
{
    size_t    i;
    uint32_t  m, w;
    u_char    rot[4];

    for (i = 0; i < 4; i++) {
        rot[i] = mask[(offset + i) & 3];
    }

    /* byte-wise until p is aligned, then a word at a time */

    i = 0;

    while (i < n && ((uintptr_t) (p + i) & 3)) {
        p[i] ^= rot[i & 3];
        i++;
    }

    if (i < n) {
        u_char  aligned[4];

        aligned[0] = rot[i & 3];
        aligned[1] = rot[(i + 1) & 3];
        aligned[2] = rot[(i + 2) & 3];
        aligned[3] = rot[(i + 3) & 3];

        ngx_memcpy(&m, aligned, 4);

        for ( /* void */ ; i + 4 <= n; i += 4) {
            ngx_memcpy(&w, p + i, 4);
            w ^= m;
            ngx_memcpy(p + i, &w, 4);
        }

        for ( /* void */ ; i < n; i++) {
            p[i] ^= rot[i & 3];
        }
    }
}


size_t
ngx_socketio_ws_header_len(uint64_t len)
{
    if (len < 126) {
        return 2;
    }

    if (len <= 0xffff) {
        return 4;
    }

    return 10;
}


size_t
ngx_socketio_ws_header(u_char *p, ngx_uint_t opcode, uint64_t len)
{
    ngx_uint_t  i;

    /* FIN set: the server never fragments */

    p[0] = (u_char) (0x80 | opcode);

    if (len < 126) {
        p[1] = (u_char) len;
        return 2;
    }

    if (len <= 0xffff) {
        p[1] = 126;
        p[2] = (u_char) (len >> 8);
        p[3] = (u_char) len;
        return 4;
    }

    p[1] = 127;

    for (i = 0; i < 8; i++) {
        p[2 + i] = (u_char) (len >> (56 - 8 * i));
    }

    return 10;
}


ngx_int_t
ngx_socketio_ws_check_close(const u_char *p, size_t len, ngx_uint_t *code)
{
    ngx_uint_t  status;

    if (len == 0) {
        return NGX_OK;
    }

    if (len == 1) {
        *code = NGX_SOCKETIO_WS_PROTOCOL_ERROR;
        return NGX_ERROR;
    }

    status = (ngx_uint_t) p[0] << 8 | p[1];

    /*
     * the codes a peer may send (RFC 6455 7.4.1, 7.4.2; 1012-1014 are
     * registered with IANA since)
     */

    if (!((status >= 1000 && status <= 1003)
          || (status >= 1007 && status <= 1014)
          || (status >= 3000 && status <= 4999)))
    {
        *code = NGX_SOCKETIO_WS_PROTOCOL_ERROR;
        return NGX_ERROR;
    }

    if (ngx_socketio_utf8_valid(p + 2, len - 2) != NGX_OK) {
        *code = NGX_SOCKETIO_WS_INVALID_DATA;
        return NGX_ERROR;
    }

    return NGX_OK;
}
