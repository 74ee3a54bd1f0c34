
/*
 * Copyright (C) ngx_http_socketio_module authors
 *
 * libFuzzer target: the Redis side.  A message published by another
 * server (or anyone who can write to Redis) goes through
 * ngx_socketio_codec_broadcast(), ngx_socketio_codec_names() for its rooms
 * and except lists and ngx_socketio_codec_frame() for its data, as in
 * ngx_socketio_adapter_classic.c.  Any input that is one valid msgpack
 * array is also encoded directly as packet data, and any valid value as
 * JSON with ngx_socketio_codec_json().
 *
 * Two modes:
 *   - raw: the input is the message;
 *   - structured: an input that starts with 0xc1 (a byte msgpack never
 *     uses, so no raw message is lost) is a program for a generator that
 *     writes a well-formed broadcast [uid, {type, data, nsp, id},
 *     {rooms, except, flags}] with values of every msgpack type and width.
 *
 * Invariants (abort() on failure):
 *   - only a message that validates is decoded;
 *   - an encoded frame is a text frame and binary frames, exactly;
 *   - its text is "4", a head that parses back to the type, attachment
 *     count, namespace and ack id it was made for, and a JSON array that
 *     jansson reads;
 *   - ngx_socketio_codec_json() writes JSON that jansson reads.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <math.h>
#include <float.h>
#include <jansson.h>

#include "ngx_socketio_utf8.h"
#include "ngx_socketio_json.h"
#include "ngx_socketio_msgpack.h"
#include "ngx_socketio_packet.h"
#include "ngx_socketio_codec.h"


#define FUZZ_CODEC_STRUCTURED  0xc1


#define FUZZ_GEN_STR    0
#define FUZZ_GEN_BIN    1
#define FUZZ_GEN_ARRAY  2
#define FUZZ_GEN_MAP    3


typedef struct {
    const u_char         *p;
    const u_char         *end;
    ngx_socketio_wbuf_t   b;
} fuzz_gen_t;


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_codec_message(const u_char *msg, size_t len,
    ngx_uint_t variant);
static void fuzz_codec_names(const u_char *msg, size_t len,
    ngx_socketio_mp_t *mp, uint32_t n);
static void fuzz_codec_check_frame(ngx_socketio_frame_t *f, ngx_uint_t type,
    ngx_str_t *nsp, uint64_t id);
static void fuzz_codec_check_json(const u_char *p, size_t len,
    ngx_uint_t array);

static u_char fuzz_gen_byte(fuzz_gen_t *g);
static void fuzz_gen_raw(fuzz_gen_t *g, const void *p, size_t n);
static void fuzz_gen_be(fuzz_gen_t *g, uint64_t v, ngx_uint_t n);
static void fuzz_gen_input(fuzz_gen_t *g, size_t n);
static void fuzz_gen_count(fuzz_gen_t *g, ngx_uint_t kind, uint32_t n);
static void fuzz_gen_cstr(fuzz_gen_t *g, const char *s);
static void fuzz_gen_string(fuzz_gen_t *g);
static void fuzz_gen_double(fuzz_gen_t *g);
static int8_t fuzz_gen_ext_type(fuzz_gen_t *g);
static void fuzz_gen_value(fuzz_gen_t *g, ngx_uint_t depth);
static void fuzz_gen_key(fuzz_gen_t *g, ngx_uint_t depth);
static void fuzz_gen_names(fuzz_gen_t *g);
static void fuzz_gen_broadcast(fuzz_gen_t *g);


#define fuzz_assert(cond)                                                     \
    if (!(cond)) {                                                            \
        fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__,           \
                __LINE__, #cond);                                             \
        abort();                                                              \
    }


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char      *buf;
    size_t       len;
    fuzz_gen_t   g;

    if (size && data[0] == FUZZ_CODEC_STRUCTURED) {
        g.p = data + 1;
        g.end = data + size;

        if (ngx_socketio_wbuf_init(&g.b, 256) != NGX_OK) {
            return 0;
        }

        fuzz_gen_broadcast(&g);

        if (!g.b.failed) {
            len = ngx_socketio_wbuf_len(&g.b);

            /* exactly the message: ASan sees any read past it */

            buf = malloc(len ? len : 1);
            if (buf != NULL) {
                ngx_memcpy(buf, g.b.start, len);
                fuzz_codec_message(buf, len, size > 1 ? data[1] : 0);
                free(buf);
            }
        }

        ngx_socketio_wbuf_free(&g.b);

        return 0;
    }

    buf = malloc(size ? size : 1);
    if (buf == NULL) {
        return 0;
    }

    ngx_memcpy(buf, data, size);

    fuzz_codec_message(buf, size, size);

    free(buf);

    return 0;
}


static void
fuzz_codec_message(const u_char *msg, size_t len, ngx_uint_t variant)
{
    uint64_t                   id;
    ngx_int_t                  valid, rc;
    ngx_str_t                  nsp;
    ngx_uint_t                 type;
    ngx_socketio_mp_t          mp;
    ngx_socketio_wbuf_t        b;
    ngx_socketio_frame_t      *f;
    ngx_socketio_mp_obj_t      o;
    ngx_socketio_request_t     req;
    ngx_socketio_broadcast_t   bc;

    valid = ngx_socketio_mp_validate(msg, len);

    /* as ngx_socketio_classic_message() */

    if (ngx_socketio_codec_broadcast(msg, len, &bc) == NGX_OK) {
        fuzz_assert(valid == NGX_OK);

        /* what a Node server can publish, and nothing a client refuses */
        fuzz_assert(bc.type == NGX_SOCKETIO_EVENT
                    || bc.type == NGX_SOCKETIO_ACK);
        fuzz_assert(bc.id == NGX_SOCKETIO_NO_ID
                    || bc.id <= NGX_SOCKETIO_MAX_ID);
        fuzz_assert(bc.data.pos >= msg && bc.data.pos < msg + len
                    && bc.data.end == msg + len);

        fuzz_codec_names(msg, len, &bc.rooms, bc.nrooms);
        fuzz_codec_names(msg, len, &bc.except, bc.nexcept);

        f = ngx_socketio_codec_frame(&bc.data, bc.type, &bc.nsp, bc.id);

        if (f) {
            fuzz_codec_check_frame(f, bc.type, &bc.nsp, bc.id);
            ngx_socketio_frame_release(f);
        }
    }

    /* as ngx_socketio_classic_broadcast_ack() */

    if (ngx_socketio_codec_request(msg, len, &req) == NGX_OK) {
        fuzz_assert(valid == NGX_OK);
        fuzz_assert(req.bc.data.pos >= msg && req.bc.data.end <= msg + len);

        fuzz_codec_names(msg, len, &req.bc.rooms, req.bc.nrooms);
        fuzz_codec_names(msg, len, &req.bc.except, req.bc.nexcept);

        f = ngx_socketio_codec_frame(&req.bc.data, NGX_SOCKETIO_EVENT,
                                     &req.bc.nsp, 0);
        if (f) {
            fuzz_codec_check_frame(f, NGX_SOCKETIO_EVENT, &req.bc.nsp, 0);
            ngx_socketio_frame_release(f);
        }
    }

    if (valid != NGX_OK) {
        return;
    }

    /* any array as packet data */

    mp.pos = msg;
    mp.end = msg + len;

    if (ngx_socketio_mp_read(&mp, &o) == NGX_OK
        && o.type == NGX_SOCKETIO_MP_ARRAY)
    {
        type = (variant & 1) ? NGX_SOCKETIO_ACK : NGX_SOCKETIO_EVENT;

        if (variant & 2) {
            ngx_str_set(&nsp, "/admin");

        } else {
            ngx_str_set(&nsp, "/");
        }

        id = (variant & 4) ? (uint64_t) variant : NGX_SOCKETIO_NO_ID;

        mp.pos = msg;

        f = ngx_socketio_codec_frame(&mp, type, &nsp, id);

        if (f) {
            fuzz_codec_check_frame(f, type, &nsp, id);
            ngx_socketio_frame_release(f);
        }
    }

    /* any value as JSON; binary is refused there */

    if (ngx_socketio_wbuf_init(&b, 64) != NGX_OK) {
        return;
    }

    mp.pos = msg;
    mp.end = msg + len;

    rc = ngx_socketio_codec_json(&b, &mp);

    if (rc == NGX_OK && !b.failed) {
        fuzz_assert(mp.pos == mp.end);
        fuzz_codec_check_json(b.start, ngx_socketio_wbuf_len(&b), 0);
    }

    ngx_socketio_wbuf_free(&b);
}


/*
 * The names are what the elements say: a string as it is, a number as
 * String() writes it, anything else left out.
 */

static void
fuzz_codec_names(const u_char *msg, size_t len, ngx_socketio_mp_t *mp,
    uint32_t n)
{
    u_char                 num[32];
    size_t                 k;
    double                 d;
    uint32_t               i, j;
    ngx_str_t             *name;
    ngx_socketio_mp_t      cur;
    ngx_socketio_names_t   names;
    ngx_socketio_mp_obj_t  o;

    if (n == 0) {
        /* the cursor is not set then */
        return;
    }

    fuzz_assert(mp->pos >= msg && mp->end == msg + len);

    if (ngx_socketio_codec_names(mp, n, &names) != NGX_OK) {
        return;
    }

    fuzz_assert(names.n <= n);

    cur = *mp;
    j = 0;

    for (i = 0; i < n; i++) {
        fuzz_assert(ngx_socketio_mp_read(&cur, &o) == NGX_OK);

        if (ngx_socketio_mp_number(&o, &d) == NGX_OK) {

            if (isnan(d)) {
                k = ngx_cpymem(num, "NaN", 3) - num;

            } else if (isinf(d)) {
                k = (d > 0) ? ngx_cpymem(num, "Infinity", 8) - num
                            : ngx_cpymem(num, "-Infinity", 9) - num;

            } else {
                k = ngx_socketio_json_format_double(num, d);
            }

        } else if (o.type == NGX_SOCKETIO_MP_STR) {
            k = 0;

        } else {
            continue;
        }

        fuzz_assert(j < names.n);

        name = &names.names[j++];

        if (o.type == NGX_SOCKETIO_MP_STR) {
            fuzz_assert(name->data == o.ptr && name->len == o.len);

        } else {
            fuzz_assert(name->len == k
                        && ngx_memcmp(name->data, num, k) == 0);
        }
    }

    fuzz_assert(j == names.n);

    for (i = 0; i < names.n; i++) {
        name = &names.names[i];

        if (name->data >= msg && name->data <= msg + len) {
            fuzz_assert(name->len <= (size_t) (msg + len - name->data));

        } else {
            /* a number written out: read every byte of it */
            fuzz_assert(name->len > 0 && name->len < 32);
            fuzz_assert(ngx_strlchr(name->data, name->data + name->len, '\0')
                        == NULL);
        }
    }

    ngx_socketio_codec_names_free(&names);
}


/*
 * The frame as the server hands it to the socket: one text frame, then
 * one binary frame per attachment, nothing else.
 */

static void
fuzz_codec_check_frame(ngx_socketio_frame_t *f, ngx_uint_t type,
    ngx_str_t *nsp, uint64_t id)
{
    u_char                 *p, *end, *text;
    size_t                  hl, tlen;
    uint64_t                n;
    ngx_uint_t              i, nbin, want;
    ngx_socketio_packet_t   pkt;

    fuzz_assert(f->refs == 1);
    fuzz_assert(f->len >= 2);

    p = f->data;
    end = p + f->len;

    text = NULL;
    tlen = 0;
    nbin = 0;

    while (p < end) {
        fuzz_assert(end - p >= 2);
        fuzz_assert(p[0] == (text == NULL ? 0x81 : 0x82));
        fuzz_assert(!(p[1] & 0x80));

        n = p[1];
        hl = 2;

        if (n == 126) {
            fuzz_assert(end - p >= 4);
            n = (uint64_t) p[2] << 8 | p[3];
            fuzz_assert(n >= 126);
            hl = 4;

        } else if (n == 127) {
            fuzz_assert(end - p >= 10);
            n = 0;

            for (i = 0; i < 8; i++) {
                n = n << 8 | p[2 + i];
            }

            fuzz_assert(n > 0xffff);
            hl = 10;
        }

        fuzz_assert((uint64_t) (end - p - hl) >= n);

        if (text == NULL) {
            text = p + hl;
            tlen = n;

        } else {
            nbin++;
        }

        p += hl + n;
    }

    fuzz_assert(p == end && text != NULL);
    fuzz_assert(tlen >= 4 && text[0] == NGX_SOCKETIO_EIO_MESSAGE);

    /*
     * The head parses back where the parser can tell: an event or an ack,
     * a namespace as a client would name it, no more attachments than a
     * client takes.
     */

    if ((type != NGX_SOCKETIO_EVENT && type != NGX_SOCKETIO_ACK)
        || nsp->len == 0 || nsp->data[0] != '/'
        || ngx_strlchr(nsp->data, nsp->data + nsp->len, ',') != NULL
        || nbin > NGX_SOCKETIO_MAX_ATTACHMENTS)
    {
        return;
    }

    fuzz_assert(ngx_socketio_packet_parse(text + 1, tlen - 1, &pkt)
                == NGX_OK);

    want = type;

    if (nbin) {
        want = (type == NGX_SOCKETIO_EVENT) ? NGX_SOCKETIO_BINARY_EVENT
                                            : NGX_SOCKETIO_BINARY_ACK;
    }

    fuzz_assert(pkt.type == want);
    fuzz_assert(pkt.attachments == nbin);
    fuzz_assert(pkt.id == id);
    fuzz_assert(pkt.nsp.len == nsp->len
                && ngx_memcmp(pkt.nsp.data, nsp->data, nsp->len) == 0);

    fuzz_codec_check_json(pkt.payload.data, pkt.payload.len, 1);
}


static void
fuzz_codec_check_json(const u_char *p, size_t len, ngx_uint_t array)
{
    json_t        *json;
    json_error_t   err;

    fuzz_assert(ngx_socketio_utf8_valid(p, len) == NGX_OK);

    json = json_loadb((const char *) p, len,
                      JSON_DECODE_ANY | JSON_ALLOW_NUL
                      | JSON_DECODE_INT_AS_REAL, &err);

    if (json == NULL && json_error_code(&err) == json_error_null_byte_in_key)
    {
        /* valid JSON; jansson cannot hold such a key */
        return;
    }

    if (json == NULL) {
        fprintf(stderr, "not JSON (%s at %d): %.*s\n", err.text,
                err.position, (int) ngx_min(len, 512), p);
        abort();
    }

    if (array) {
        fuzz_assert(json_is_array(json));
    }

    json_decref(json);
}


/* the generator: reads its program, writes msgpack */

static u_char
fuzz_gen_byte(fuzz_gen_t *g)
{
    /* past the end of the program: zeros, which make nils and empties */

    return (g->p < g->end) ? *g->p++ : 0;
}


static void
fuzz_gen_raw(fuzz_gen_t *g, const void *p, size_t n)
{
    ngx_socketio_wbuf_add(&g->b, p, n);
}


static void
fuzz_gen_be(fuzz_gen_t *g, uint64_t v, ngx_uint_t n)
{
    u_char      buf[8];
    ngx_uint_t  i;

    for (i = 0; i < n; i++) {
        buf[i] = (u_char) (v >> (8 * (n - 1 - i)));
    }

    fuzz_gen_raw(g, buf, n);
}


static void
fuzz_gen_input(fuzz_gen_t *g, size_t n)
{
    size_t  have;

    have = ngx_min(n, (size_t) (g->end - g->p));

    fuzz_gen_raw(g, g->p, have);
    g->p += have;

    for ( /* void */ ; have < n; have++) {
        ngx_socketio_wbuf_addc(&g->b, '\0');
    }
}


/* a str, bin, array or map head: the smallest form or a wider one */

static void
fuzz_gen_count(fuzz_gen_t *g, ngx_uint_t kind, uint32_t n)
{
    u_char  sel;

    static const u_char  fix[] = { 0xa0, 0, 0x90, 0x80 };
    static const u_char  fixmax[] = { 31, 0, 15, 15 };
    static const u_char  c8[] = { 0xd9, 0xc4, 0, 0 };
    static const u_char  c16[] = { 0xda, 0xc5, 0xdc, 0xde };
    static const u_char  c32[] = { 0xdb, 0xc6, 0xdd, 0xdf };

    sel = fuzz_gen_byte(g) >> 6;

    if (fix[kind] && n <= fixmax[kind] && sel == 0) {
        ngx_socketio_wbuf_addc(&g->b, (u_char) (fix[kind] | n));

    } else if (c8[kind] && n <= 0xff && sel <= 1) {
        ngx_socketio_wbuf_addc(&g->b, c8[kind]);
        fuzz_gen_be(g, n, 1);

    } else if (n <= 0xffff && sel <= 2) {
        ngx_socketio_wbuf_addc(&g->b, c16[kind]);
        fuzz_gen_be(g, n, 2);

    } else {
        ngx_socketio_wbuf_addc(&g->b, c32[kind]);
        fuzz_gen_be(g, n, 4);
    }
}


static void
fuzz_gen_cstr(fuzz_gen_t *g, const char *s)
{
    size_t  n;

    n = ngx_strlen(s);

    fuzz_gen_count(g, FUZZ_GEN_STR, n);
    fuzz_gen_raw(g, s, n);
}


static void
fuzz_gen_string(fuzz_gen_t *g)
{
    u_char  c;
    size_t  n;

    static const char  *dict[] = {
        "", "a", "0", "1", "01", "-1", "-0", "1.5", "1e21", "4294967294",
        "4294967295", "9007199254740993", "__proto__", "_placeholder", "num",
        "type", "data", "nsp", "id", "rooms", "except", "flags", "volatile",
        "compress", "hello", "/", "/admin", "/a,b", "undefined", "NaN",
        "Infinity", "null", "true", "toString", "\"\\\n\t\x01\x7f",
        "\xff", "\xc3", "\xe2\x82", "\xed\xa0\x80", "\xf0\x9f\x98\x80",
        "\xf4\x90\x80\x80", "\xc0\xaf", "a\0b", "\xe2\x80\xa8\xe2\x80\xa9"
    };

    c = fuzz_gen_byte(g);

    if (c < 160) {
        fuzz_gen_cstr(g, dict[c % (sizeof(dict) / sizeof(dict[0]))]);
        return;
    }

    /* bytes from the program, sometimes longer than 31 or 255 */

    n = fuzz_gen_byte(g);

    if (c >= 250) {
        n = n << 2;
    }

    fuzz_gen_count(g, FUZZ_GEN_STR, n);
    fuzz_gen_input(g, n);
}


/* float64: from the program, or a number ToString finds hard */

static void
fuzz_gen_double(fuzz_gen_t *g)
{
    u_char      c;
    ngx_uint_t  i;
    union {
        double    f;
        uint64_t  u;
    } v;

    static const double  dict[] = {
        0.0, -0.0, 0.5, 1.5, -1.5, 0.1, 1e-6, 1e-7, 1.5e-7,
        1.2345678901234567e-6, -1.2345678901234567e-6,
        -1.2345678901234567e-5, 1.2345678901234567e-7, 0.30000000000000004,
        -0.30000000000000004, 123456789012345680000.0, 1e21, -1e21, 1e20,
        4294967294.0, 4294967295.0, 9007199254740992.0, -9007199254740992.0,
        9007199254740994.0, 1.7976931348623157e308, -1.7976931348623157e308,
        5e-324, -5e-324, 2.2250738585072014e-308, 1e300, 8.64e15, -8.64e15,
        8.64e15 + 1, -62198755200000.0, 253402300800000.0
    };

    c = fuzz_gen_byte(g);

    ngx_socketio_wbuf_addc(&g->b, 0xcb);

    if (c < 128) {
        v.f = dict[c % (sizeof(dict) / sizeof(dict[0]))];

    } else if (c < 136) {
        v.f = (c & 1) ? INFINITY : -INFINITY;

        if (c & 2) {
            v.f = NAN;
        }

    } else {
        v.u = 0;

        for (i = 0; i < 8; i++) {
            v.u = v.u << 8 | fuzz_gen_byte(g);
        }
    }

    fuzz_gen_be(g, v.u, 8);
}


static int8_t
fuzz_gen_ext_type(fuzz_gen_t *g)
{
    u_char  c;

    c = fuzz_gen_byte(g);

    switch (c & 3) {
    case 0: return -1;
    case 1: return 0;
    case 2: return 1;
    default: return (int8_t) c;
    }
}


static void
fuzz_gen_value(fuzz_gen_t *g, ngx_uint_t depth)
{
    u_char    op, c;
    int8_t    type;
    size_t    n;
    uint32_t  i;

    op = fuzz_gen_byte(g);

    /* one level past the limit, so that the validator's edge is tried */

    if (depth > NGX_SOCKETIO_MP_MAX_DEPTH + 1
        && (op % 16 == 13 || op % 16 == 14))
    {
        op = 0;
    }

    switch (op % 16) {

    case 0:
        ngx_socketio_wbuf_addc(&g->b, 0xc0);
        break;

    case 1:
        ngx_socketio_wbuf_addc(&g->b, (u_char) (0xc2 | ((op >> 4) & 1)));
        break;

    case 2:
        c = fuzz_gen_byte(g);

        if (c >= 0x80 && c < 0xe0) {
            c &= 0x7f;
        }

        ngx_socketio_wbuf_addc(&g->b, c);
        break;

    case 3:
        /* uint 8, 16, 32, 64 */
        n = (op >> 4) & 3;
        ngx_socketio_wbuf_addc(&g->b, (u_char) (0xcc + n));
        fuzz_gen_input(g, (size_t) 1 << n);
        break;

    case 4:
        /* int 8, 16, 32, 64 */
        n = (op >> 4) & 3;
        ngx_socketio_wbuf_addc(&g->b, (u_char) (0xd0 + n));
        fuzz_gen_input(g, (size_t) 1 << n);
        break;

    case 5:
        ngx_socketio_wbuf_addc(&g->b, 0xca);
        fuzz_gen_input(g, 4);
        break;

    case 6:
    case 7:
        fuzz_gen_double(g);
        break;

    case 8:
    case 9:
        fuzz_gen_string(g);
        break;

    case 10:
        n = fuzz_gen_byte(g) % 48;
        fuzz_gen_count(g, FUZZ_GEN_BIN, n);
        fuzz_gen_input(g, n);
        break;

    case 11:
        /* fixext 1, 2, 4, 8, 16 */
        n = ((op >> 4) & 7) % 5;
        type = fuzz_gen_ext_type(g);
        ngx_socketio_wbuf_addc(&g->b, (u_char) (0xd4 + n));
        ngx_socketio_wbuf_addc(&g->b, (u_char) type);
        fuzz_gen_input(g, (size_t) 1 << n);
        break;

    case 12:
        /* ext 8, 16, 32; 12 bytes is the timestamp 96 */
        c = fuzz_gen_byte(g);
        n = (c & 1) ? 12 : (size_t) (c >> 3);
        i = (op >> 4) % 3;
        type = fuzz_gen_ext_type(g);
        ngx_socketio_wbuf_addc(&g->b, (u_char) (0xc7 + i));
        fuzz_gen_be(g, n, (ngx_uint_t) 1 << i);
        ngx_socketio_wbuf_addc(&g->b, (u_char) type);
        fuzz_gen_input(g, n);
        break;

    case 13:
        c = fuzz_gen_byte(g);
        n = (op >= 0xf0) ? c : c % 8;
        fuzz_gen_count(g, FUZZ_GEN_ARRAY, n);

        for (i = 0; i < n; i++) {
            fuzz_gen_value(g, depth + 1);
        }

        break;

    case 14:
        c = fuzz_gen_byte(g);
        n = (op >= 0xf0) ? c % 40 : c % 8;
        fuzz_gen_count(g, FUZZ_GEN_MAP, n);

        for (i = 0; i < n; i++) {
            fuzz_gen_key(g, depth + 1);
            fuzz_gen_value(g, depth + 1);
        }

        break;

    default:
        /* timestamps: 32, 64, 96 */
        c = fuzz_gen_byte(g) % 3;

        if (c == 0) {
            ngx_socketio_wbuf_addc(&g->b, 0xd6);
            ngx_socketio_wbuf_addc(&g->b, 0xff);
            fuzz_gen_input(g, 4);

        } else if (c == 1) {
            ngx_socketio_wbuf_addc(&g->b, 0xd7);
            ngx_socketio_wbuf_addc(&g->b, 0xff);
            fuzz_gen_input(g, 8);

        } else {
            ngx_socketio_wbuf_addc(&g->b, 0xc7);
            ngx_socketio_wbuf_addc(&g->b, 12);
            ngx_socketio_wbuf_addc(&g->b, 0xff);
            fuzz_gen_input(g, 12);
        }

        break;
    }
}


static void
fuzz_gen_key(fuzz_gen_t *g, ngx_uint_t depth)
{
    u_char  c;

    c = fuzz_gen_byte(g);

    switch (c & 7) {

    case 0:
    case 1:
    case 2:
    case 3:
        fuzz_gen_string(g);
        break;

    case 4:
        /* small integers: array-index keys */
        ngx_socketio_wbuf_addc(&g->b, (u_char) (c >> 4));
        break;

    case 5:
        fuzz_gen_double(g);
        break;

    default:
        fuzz_gen_value(g, depth);
        break;
    }
}


/* rooms or except: strings, numbers, now and then something else */

static void
fuzz_gen_names(fuzz_gen_t *g)
{
    u_char    c;
    uint32_t  i, n;

    c = fuzz_gen_byte(g);

    if (c >= 240) {
        fuzz_gen_value(g, 1);
        return;
    }

    n = c % 40;

    fuzz_gen_count(g, FUZZ_GEN_ARRAY, n);

    for (i = 0; i < n; i++) {
        c = fuzz_gen_byte(g);

        switch (c & 3) {

        case 0:
        case 1:
            fuzz_gen_string(g);
            break;

        case 2:
            if (c & 4) {
                fuzz_gen_double(g);

            } else {
                ngx_socketio_wbuf_addc(&g->b, 0xd3);
                fuzz_gen_input(g, 8);
            }

            break;

        default:
            fuzz_gen_value(g, 2);
            break;
        }
    }
}


static void
fuzz_gen_broadcast(fuzz_gen_t *g)
{
    u_char      c, ctl, omit;
    ngx_uint_t  i, j, n, order[4], t;

    ctl = fuzz_gen_byte(g);

    /* [uid, packet, opts], sometimes with one more element */

    fuzz_gen_count(g, FUZZ_GEN_ARRAY, 3 + (ctl & 1));
    fuzz_gen_string(g);

    /* packet: type, data, nsp, id in any order, each left out at times */

    for (i = 0; i < 4; i++) {
        order[i] = i;
    }

    for (i = 3; i > 0; i--) {
        j = fuzz_gen_byte(g) % (i + 1);
        t = order[i];
        order[i] = order[j];
        order[j] = t;
    }

    omit = fuzz_gen_byte(g);

    n = 0;

    for (i = 0; i < 4; i++) {
        if (((omit >> (2 * i)) & 3) != 3) {
            n++;
        }
    }

    fuzz_gen_count(g, FUZZ_GEN_MAP, n + ((ctl >> 1) & 1));

    for (i = 0; i < 4; i++) {

        if (((omit >> (2 * order[i])) & 3) == 3) {
            continue;
        }

        switch (order[i]) {

        case 0:
            fuzz_gen_cstr(g, "type");
            c = fuzz_gen_byte(g);

            if (c < 224) {
                ngx_socketio_wbuf_addc(&g->b, (u_char) (c % 8));

            } else {
                fuzz_gen_value(g, 1);
            }

            break;

        case 1:
            fuzz_gen_cstr(g, "data");
            c = fuzz_gen_byte(g);

            if (c < 240) {
                n = c % 12;
                fuzz_gen_count(g, FUZZ_GEN_ARRAY, n);

                for (j = 0; j < n; j++) {
                    fuzz_gen_value(g, 2);
                }

            } else {
                fuzz_gen_value(g, 1);
            }

            break;

        case 2:
            fuzz_gen_cstr(g, "nsp");
            c = fuzz_gen_byte(g);

            if (c < 128) {
                fuzz_gen_cstr(g, (c & 1) ? "/admin" : "/");

            } else if (c < 240) {
                fuzz_gen_string(g);

            } else {
                fuzz_gen_value(g, 1);
            }

            break;

        default:
            fuzz_gen_cstr(g, "id");
            c = fuzz_gen_byte(g);

            if (c < 160) {
                ngx_socketio_wbuf_addc(&g->b, (u_char) (0xcc + (c & 3)));
                fuzz_gen_input(g, (size_t) 1 << (c & 3));

            } else if (c < 200) {
                ngx_socketio_wbuf_addc(&g->b, 0xc0);

            } else {
                fuzz_gen_value(g, 1);
            }

            break;
        }
    }

    if ((ctl >> 1) & 1) {
        /* a duplicate or a stranger */
        fuzz_gen_key(g, 1);
        fuzz_gen_value(g, 1);
    }

    /* opts */

    omit = fuzz_gen_byte(g);

    n = 0;

    for (i = 0; i < 3; i++) {
        if (((omit >> (2 * i)) & 3) != 3) {
            n++;
        }
    }

    fuzz_gen_count(g, FUZZ_GEN_MAP, n);

    for (i = 0; i < 3; i++) {

        if (((omit >> (2 * i)) & 3) == 3) {
            continue;
        }

        switch (i) {

        case 0:
            fuzz_gen_cstr(g, "rooms");
            fuzz_gen_names(g);
            break;

        case 1:
            fuzz_gen_cstr(g, "except");
            fuzz_gen_names(g);
            break;

        default:
            fuzz_gen_cstr(g, "flags");
            c = fuzz_gen_byte(g);

            if (c >= 240) {
                fuzz_gen_value(g, 1);
                break;
            }

            fuzz_gen_count(g, FUZZ_GEN_MAP, c & 3);

            for (j = 0; j < (ngx_uint_t) (c & 3); j++) {
                fuzz_gen_cstr(g, (j & 1) ? "compress" : "volatile");

                if ((c >> (2 + j)) & 1) {
                    fuzz_gen_value(g, 2);

                } else {
                    ngx_socketio_wbuf_addc(&g->b, (u_char)
                                           (0xc2 | ((c >> (5 + j)) & 1)));
                }
            }

            break;
        }
    }

    if (ctl & 1) {
        fuzz_gen_value(g, 1);
    }

    if (ctl >= 0xf8) {
        /* trailing garbage: one value, then the rest of the program */
        fuzz_gen_input(g, (size_t) (g->end - g->p));
    }
}
