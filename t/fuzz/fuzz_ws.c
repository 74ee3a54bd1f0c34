
/*
 * Copyright (C) ngx_http_socketio_module authors
 *
 * libFuzzer target: the WebSocket frame parser as the server uses it
 * (ngx_socketio_eio_frames() and ngx_socketio_eio_frame()).  The input is
 * what a client writes to the socket; frames are parsed in a loop,
 * unmasked in place, fragmented messages reassembled, close payloads
 * checked and text messages validated as UTF-8.
 *
 * Beside the sanitizers, these invariants are checked (abort() on
 * failure):
 *   - every shorter prefix of a complete header asks for more bytes;
 *   - a parsed header fits the limits it was parsed under (control
 *     frames are held to 125 bytes, not to the message limit);
 *   - the header the server writes for a length reads back, masked, as
 *     the same frame;
 *   - unmasking in two pieces at any offset equals unmasking at once;
 *   - ngx_socketio_utf8_valid() agrees with a plain RFC 3629 decoder.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_socketio_utf8.h"
#include "ngx_socketio_ws.h"


/* small, so that 1009 is reachable with small inputs */
#define FUZZ_WS_MAX_PAYLOAD  1024


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_ws_message(ngx_uint_t opcode, u_char *p, size_t len);
static void fuzz_ws_unmask(u_char *p, size_t n, const u_char mask[4],
    size_t split);
static void fuzz_ws_roundtrip(ngx_uint_t opcode, uint64_t len,
    const u_char mask[4]);
static ngx_int_t fuzz_utf8_reference(const u_char *p, size_t len);


#define fuzz_assert(cond)                                                     \
    if (!(cond)) {                                                            \
        fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__,           \
                __LINE__, #cond);                                             \
        abort();                                                              \
    }


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                  *buf, *p, *msg, *m, pong[2 + 125];
    size_t                   len, total, i, msg_len;
    uint64_t                 limit, v;
    ngx_int_t                rc;
    ngx_uint_t               code, msg_opcode;
    ngx_socketio_ws_frame_t  f, g;

    /* exactly the input: ASan sees any read past it */

    buf = malloc(size ? size : 1);
    if (buf == NULL) {
        return 0;
    }

    ngx_memcpy(buf, data, size);

    /* server headers for lengths taken from the input */

    if (size >= 8) {
        v = 0;

        for (i = 0; i < 8; i++) {
            v = v << 8 | buf[i];
        }

        v &= 0x7fffffffffffffffULL;

        fuzz_ws_roundtrip(NGX_SOCKETIO_WS_BINARY, v, buf);
        fuzz_ws_roundtrip(NGX_SOCKETIO_WS_TEXT, v >> 40, buf);
        fuzz_ws_roundtrip(NGX_SOCKETIO_WS_TEXT, v >> 48, buf);
        fuzz_ws_roundtrip(NGX_SOCKETIO_WS_PONG, (v >> 56) % 126, buf);
    }

    p = buf;
    len = size;

    msg = NULL;
    msg_len = 0;
    msg_opcode = 0;

    while (len) {

        /* the sum of a fragmented message's frames is held to the limit */

        limit = FUZZ_WS_MAX_PAYLOAD - msg_len;

        code = 0;
        rc = ngx_socketio_ws_parse_header(p, len, limit, &f, &code);

        if (rc == NGX_AGAIN) {
            /* the server keeps at most one full header's worth */
            fuzz_assert(len < NGX_SOCKETIO_WS_MAX_HEADER);
            break;
        }

        if (rc == NGX_ERROR) {
            fuzz_assert(code == NGX_SOCKETIO_WS_PROTOCOL_ERROR
                        || code == NGX_SOCKETIO_WS_TOO_BIG);
            break;
        }

        fuzz_assert(rc == NGX_OK);
        fuzz_assert(f.header_len == 6 || f.header_len == 8
                    || f.header_len == 14);
        fuzz_assert(f.header_len <= len);
        fuzz_assert(f.opcode >= NGX_SOCKETIO_WS_CLOSE
                    || f.payload_len <= limit);
        fuzz_assert(ngx_memcmp(f.mask, p + f.header_len - 4, 4) == 0);

        for (i = 0; i < f.header_len; i++) {
            fuzz_assert(ngx_socketio_ws_parse_header(p, i, limit, &g, &code)
                        == NGX_AGAIN);
        }

        switch (f.opcode) {

        case NGX_SOCKETIO_WS_CONT:
        case NGX_SOCKETIO_WS_TEXT:
        case NGX_SOCKETIO_WS_BINARY:
            break;

        case NGX_SOCKETIO_WS_CLOSE:
        case NGX_SOCKETIO_WS_PING:
        case NGX_SOCKETIO_WS_PONG:
            fuzz_assert(f.fin && f.payload_len <= 125);
            break;

        default:
            fuzz_assert(0);
        }

        fuzz_ws_roundtrip(f.opcode, f.payload_len, f.mask);

        total = f.header_len + f.payload_len;

        if (len < total) {
            /* the rest of the frame has not come */
            break;
        }

        fuzz_ws_unmask(p + f.header_len, f.payload_len, f.mask,
                       p[f.header_len - 1]);

        p += f.header_len;

        switch (f.opcode) {

        case NGX_SOCKETIO_WS_TEXT:
        case NGX_SOCKETIO_WS_BINARY:

            if (msg) {
                /* a new message inside a fragmented one */
                goto done;
            }

            if (f.fin) {
                fuzz_ws_message(f.opcode, p, f.payload_len);
                break;
            }

            msg = malloc(f.payload_len ? f.payload_len : 1);
            if (msg == NULL) {
                goto done;
            }

            ngx_memcpy(msg, p, f.payload_len);
            msg_len = f.payload_len;
            msg_opcode = f.opcode;
            break;

        case NGX_SOCKETIO_WS_CONT:

            if (msg == NULL) {
                goto done;
            }

            if (f.payload_len) {
                m = realloc(msg, msg_len + f.payload_len);
                if (m == NULL) {
                    goto done;
                }

                msg = m;
                ngx_memcpy(msg + msg_len, p, f.payload_len);
                msg_len += f.payload_len;
            }

            fuzz_assert(msg_len <= FUZZ_WS_MAX_PAYLOAD);

            if (f.fin) {
                fuzz_ws_message(msg_opcode, msg, msg_len);

                free(msg);
                msg = NULL;
                msg_len = 0;
            }

            break;

        case NGX_SOCKETIO_WS_CLOSE:

            code = 0;

            if (ngx_socketio_ws_check_close(p, f.payload_len, &code)
                != NGX_OK)
            {
                fuzz_assert(code == NGX_SOCKETIO_WS_PROTOCOL_ERROR
                            || code == NGX_SOCKETIO_WS_INVALID_DATA);

            } else {
                /* the answer echoes status and reason */
                pong[0] = 0x80 | NGX_SOCKETIO_WS_CLOSE;
                pong[1] = (u_char) f.payload_len;
                ngx_memcpy(pong + 2, p, f.payload_len);
            }

            /* the session closes either way */
            goto done;

        case NGX_SOCKETIO_WS_PING:
            pong[0] = 0x80 | NGX_SOCKETIO_WS_PONG;
            pong[1] = (u_char) f.payload_len;
            ngx_memcpy(pong + 2, p, f.payload_len);
            break;

        default: /* NGX_SOCKETIO_WS_PONG */
            break;
        }

        p += f.payload_len;
        len -= total;
    }

done:

    free(msg);
    free(buf);

    return 0;
}


/*
 * One complete message.  The server validates text as UTF-8 (and closes
 * with 1007 if it is not); binary is checked too, for the differential.
 */

static void
fuzz_ws_message(ngx_uint_t opcode, u_char *p, size_t len)
{
    fuzz_assert(ngx_socketio_utf8_valid(p, len)
                == fuzz_utf8_reference(p, len));
}


/*
 * Unmasks as the server does (all at once, from offset 0), and checks
 * that two pieces split anywhere come out the same.
 */

static void
fuzz_ws_unmask(u_char *p, size_t n, const u_char mask[4], size_t split)
{
    u_char  *copy;

    copy = malloc(n ? n : 1);
    if (copy == NULL) {
        return;
    }

    ngx_memcpy(copy, p, n);

    ngx_socketio_ws_unmask(p, n, mask, 0);

    split = n ? split % (n + 1) : 0;

    ngx_socketio_ws_unmask(copy, split, mask, 0);
    ngx_socketio_ws_unmask(copy + split, n - split, mask, split);

    fuzz_assert(ngx_memcmp(copy, p, n) == 0);

    free(copy);
}


/* the server's header for len, masked as a client would, reads back */

static void
fuzz_ws_roundtrip(ngx_uint_t opcode, uint64_t len, const u_char mask[4])
{
    size_t                   n;
    ngx_int_t                rc;
    ngx_uint_t               code;
    ngx_socketio_ws_frame_t  f;
    u_char                   hdr[NGX_SOCKETIO_WS_MAX_HEADER];

    n = ngx_socketio_ws_header(hdr, opcode, len);

    fuzz_assert(n == ngx_socketio_ws_header_len(len));
    fuzz_assert(n <= NGX_SOCKETIO_WS_MAX_OUT_HEADER);
    fuzz_assert(n == 2 || n == 4 || n == 10);

    hdr[1] |= 0x80;
    ngx_memcpy(hdr + n, mask, 4);

    code = 0;
    rc = ngx_socketio_ws_parse_header(hdr, n + 4, (uint64_t) -1, &f, &code);

    fuzz_assert(rc == NGX_OK);
    fuzz_assert(f.fin && f.opcode == opcode);
    fuzz_assert(f.payload_len == len && f.header_len == n + 4);
    fuzz_assert(ngx_memcmp(f.mask, mask, 4) == 0);

    /* a limit one below the length is 1009, for data frames only */

    if (len) {
        code = 0;
        rc = ngx_socketio_ws_parse_header(hdr, n + 4, len - 1, &f, &code);

        if (opcode < NGX_SOCKETIO_WS_CLOSE) {
            fuzz_assert(rc == NGX_ERROR && code == NGX_SOCKETIO_WS_TOO_BIG);

        } else {
            fuzz_assert(rc == NGX_OK && f.payload_len == len);
        }
    }
}


/* RFC 3629 by the book: decode, then refuse overlongs, surrogates, > max */

static ngx_int_t
fuzz_utf8_reference(const u_char *p, size_t len)
{
    size_t    i, j, n;
    uint32_t  cp;

    for (i = 0; i < len; i += n + 1) {

        if (p[i] < 0x80) {
            n = 0;
            continue;
        }

        if ((p[i] & 0xe0) == 0xc0) {
            n = 1;
            cp = p[i] & 0x1f;

        } else if ((p[i] & 0xf0) == 0xe0) {
            n = 2;
            cp = p[i] & 0x0f;

        } else if ((p[i] & 0xf8) == 0xf0) {
            n = 3;
            cp = p[i] & 0x07;

        } else {
            return NGX_ERROR;
        }

        if (len - i <= n) {
            return NGX_ERROR;
        }

        for (j = 1; j <= n; j++) {
            if ((p[i + j] & 0xc0) != 0x80) {
                return NGX_ERROR;
            }

            cp = cp << 6 | (p[i + j] & 0x3f);
        }

        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800)
            || (n == 3 && cp < 0x10000) || cp > 0x10ffff
            || (cp >= 0xd800 && cp <= 0xdfff))
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}
