
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <math.h>
#include "ngx_socketio_codec.h"
#include "ngx_socketio_packet.h"


typedef struct {
    const u_char                 *ptr;
    size_t                        len;
} ngx_socketio_attachment_t;


typedef struct {
    ngx_socketio_wbuf_t          *b;
    const u_char                 *end;          /* of the whole message */
    ngx_socketio_attachment_t    *att;
    ngx_uint_t                    natt;
    ngx_uint_t                    nalloc;
    ngx_uint_t                    binary;       /* attachments allowed */
    ngx_socketio_attachment_t     inline_att[8];
} ngx_socketio_codec_ctx_t;


typedef struct {
    const u_char                 *key;
    size_t                        klen;
    const u_char                 *value;        /* the last duplicate's */
    uint32_t                      pos;          /* the first insertion */
    uint32_t                      index;
    unsigned                      is_index:1;
    unsigned                      skip:1;
    unsigned                      own:1;        /* key in kbuf */
    u_char                        kbuf[NGX_SOCKETIO_JSON_NUMBER_LEN];
} ngx_socketio_codec_entry_t;


/* entries move when sorted: a key kept in kbuf is found through "own" */

#define ngx_socketio_codec_entry_key(e)  ((e)->own ? (e)->kbuf : (e)->key)


static ngx_int_t ngx_socketio_codec_entries(ngx_socketio_mp_t *mp,
    ngx_socketio_mp_t *entries, uint32_t *n);
static ngx_int_t ngx_socketio_codec_packet(ngx_socketio_mp_t *mp,
    ngx_socketio_broadcast_t *bc);
static ngx_int_t ngx_socketio_codec_opts(ngx_socketio_mp_t *mp,
    ngx_socketio_broadcast_t *bc);
static ngx_int_t ngx_socketio_codec_value(ngx_socketio_codec_ctx_t *ctx,
    ngx_socketio_mp_t *mp);
static ngx_int_t ngx_socketio_codec_map(ngx_socketio_codec_ctx_t *ctx,
    ngx_socketio_mp_t *mp, uint32_t n);
static ngx_int_t ngx_socketio_codec_ext(ngx_socketio_codec_ctx_t *ctx,
    ngx_socketio_mp_obj_t *o);
static ngx_int_t ngx_socketio_codec_key(ngx_socketio_mp_obj_t *o,
    ngx_socketio_codec_entry_t *e);
static size_t ngx_socketio_codec_number(u_char *buf, double d);
static ngx_int_t ngx_socketio_codec_placeholder(ngx_socketio_codec_ctx_t *ctx,
    const u_char *p, size_t len);
static int ngx_libc_cdecl ngx_socketio_codec_cmp_key(const void *one,
    const void *two);
static int ngx_libc_cdecl ngx_socketio_codec_cmp_order(const void *one,
    const void *two);


/* notepack.io decodes fixext1 of type 0 as undefined */

#define ngx_socketio_codec_undefined(o)                                       \
    ((o)->type == NGX_SOCKETIO_MP_EXT && (o)->head == 0xd4 && (o)->ext == 0)


ngx_int_t
ngx_socketio_codec_broadcast(const u_char *msg, size_t len,
    ngx_socketio_broadcast_t *bc)
{
    ngx_socketio_mp_t      mp;
    ngx_socketio_mp_obj_t  o;

    if (ngx_socketio_mp_validate(msg, len) != NGX_OK) {
        return NGX_ERROR;
    }

    mp.pos = msg;
    mp.end = msg + len;

    if (ngx_socketio_mp_read(&mp, &o) != NGX_OK
        || o.type != NGX_SOCKETIO_MP_ARRAY || o.len < 3)
    {
        return NGX_ERROR;
    }

    /* [uid, packet, opts] */

    if (ngx_socketio_mp_read(&mp, &o) != NGX_OK
        || o.type != NGX_SOCKETIO_MP_STR)
    {
        return NGX_ERROR;
    }

    bc->uid.data = (u_char *) o.ptr;
    bc->uid.len = o.len;

    if (ngx_socketio_codec_packet(&mp, bc) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_socketio_codec_opts(&mp, bc);
}


/*
 * A request in msgpack: {"uid", "requestId", "type", "packet", "opts"}
 * (the classic adapter's BROADCAST with acks, PROTOCOL 4.4 type 7)
 */

ngx_int_t
ngx_socketio_codec_request(const u_char *msg, size_t len,
    ngx_socketio_request_t *req)
{
    ngx_socketio_mp_t      mp, v;
    ngx_socketio_mp_obj_t  o, m;

    if (ngx_socketio_mp_validate(msg, len) != NGX_OK) {
        return NGX_ERROR;
    }

    mp.pos = msg;
    mp.end = msg + len;

    if (ngx_socketio_mp_read(&mp, &m) != NGX_OK
        || m.type != NGX_SOCKETIO_MP_MAP)
    {
        return NGX_ERROR;
    }

    if (ngx_socketio_mp_map_find(&mp, m.len, "type", &v) != NGX_OK
        || ngx_socketio_mp_read(&v, &o) != NGX_OK
        || o.type != NGX_SOCKETIO_MP_UINT)
    {
        return NGX_ERROR;
    }

    req->type = (ngx_uint_t) o.v.u;

    ngx_str_null(&req->request_id);
    ngx_str_null(&req->bc.uid);

    if (ngx_socketio_mp_map_find(&mp, m.len, "requestId", &v) == NGX_OK) {
        if (ngx_socketio_mp_read(&v, &o) != NGX_OK
            || o.type != NGX_SOCKETIO_MP_STR)
        {
            return NGX_ERROR;
        }

        req->request_id.data = (u_char *) o.ptr;
        req->request_id.len = o.len;
    }

    if (ngx_socketio_mp_map_find(&mp, m.len, "uid", &v) == NGX_OK) {
        if (ngx_socketio_mp_read(&v, &o) != NGX_OK
            || o.type != NGX_SOCKETIO_MP_STR)
        {
            return NGX_ERROR;
        }

        req->bc.uid.data = (u_char *) o.ptr;
        req->bc.uid.len = o.len;
    }

    if (ngx_socketio_mp_map_find(&mp, m.len, "packet", &v) != NGX_OK
        || ngx_socketio_codec_packet(&v, &req->bc) != NGX_OK
        || ngx_socketio_mp_map_find(&mp, m.len, "opts", &v) != NGX_OK
        || ngx_socketio_codec_opts(&v, &req->bc) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a map at mp: where its n entries start; mp moves past it */

static ngx_int_t
ngx_socketio_codec_entries(ngx_socketio_mp_t *mp, ngx_socketio_mp_t *entries,
    uint32_t *n)
{
    ngx_socketio_mp_t      next;
    ngx_socketio_mp_obj_t  o;

    next = *mp;

    if (ngx_socketio_mp_skip(&next) != NGX_OK
        || ngx_socketio_mp_read(mp, &o) != NGX_OK
        || o.type != NGX_SOCKETIO_MP_MAP)
    {
        return NGX_ERROR;
    }

    *entries = *mp;
    *n = o.len;
    *mp = next;

    return NGX_OK;
}


/* packet: {"type", "data", "nsp", ["id"]}; mp moves past it */

static ngx_int_t
ngx_socketio_codec_packet(ngx_socketio_mp_t *mp, ngx_socketio_broadcast_t *bc)
{
    uint32_t               n;
    ngx_socketio_mp_t      packet, v;
    ngx_socketio_mp_obj_t  o;

    if (ngx_socketio_codec_entries(mp, &packet, &n) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_socketio_mp_map_find(&packet, n, "type", &v) != NGX_OK
        || ngx_socketio_mp_read(&v, &o) != NGX_OK
        || o.type != NGX_SOCKETIO_MP_UINT || o.v.u > 6)
    {
        return NGX_ERROR;
    }

    bc->type = (ngx_uint_t) o.v.u;

    if (ngx_socketio_mp_map_find(&packet, n, "data", &bc->data)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /*
     * Only what a Node server can publish: an event with a name its
     * clients accept, or an ack.  Anything else would make every client's
     * parser fail, and each client drop its connection.
     */

    switch (bc->type) {

    case NGX_SOCKETIO_EVENT:
    case NGX_SOCKETIO_BINARY_EVENT:
        bc->type = NGX_SOCKETIO_EVENT;
        break;

    case NGX_SOCKETIO_ACK:
    case NGX_SOCKETIO_BINARY_ACK:
        bc->type = NGX_SOCKETIO_ACK;
        break;

    default:
        return NGX_ERROR;
    }

    v = bc->data;

    if (ngx_socketio_mp_read(&v, &o) != NGX_OK
        || o.type != NGX_SOCKETIO_MP_ARRAY)
    {
        return NGX_ERROR;
    }

    if (bc->type == NGX_SOCKETIO_EVENT) {
        if (o.len == 0 || ngx_socketio_mp_read(&v, &o) != NGX_OK) {
            return NGX_ERROR;
        }

        if (o.type == NGX_SOCKETIO_MP_STR) {
            if (ngx_socketio_packet_reserved(o.ptr, o.len)) {
                return NGX_ERROR;
            }

        } else if (o.type != NGX_SOCKETIO_MP_UINT
                   && o.type != NGX_SOCKETIO_MP_INT
                   && o.type != NGX_SOCKETIO_MP_FLOAT)
        {
            return NGX_ERROR;
        }
    }

    switch (ngx_socketio_mp_map_find(&packet, n, "nsp", &v)) {

    case NGX_OK:
        if (ngx_socketio_mp_read(&v, &o) != NGX_OK
            || o.type != NGX_SOCKETIO_MP_STR)
        {
            return NGX_ERROR;
        }

        bc->nsp.data = (u_char *) o.ptr;
        bc->nsp.len = o.len;
        break;

    case NGX_DECLINED:
        ngx_str_set(&bc->nsp, "/");
        break;

    default:
        return NGX_ERROR;
    }

    bc->id = NGX_SOCKETIO_NO_ID;

    switch (ngx_socketio_mp_map_find(&packet, n, "id", &v)) {

    case NGX_OK:
        if (ngx_socketio_mp_read(&v, &o) != NGX_OK) {
            return NGX_ERROR;
        }

        if (o.type == NGX_SOCKETIO_MP_UINT && o.v.u <= NGX_SOCKETIO_MAX_ID) {
            bc->id = o.v.u;

        } else if (o.type != NGX_SOCKETIO_MP_NIL) {
            return NGX_ERROR;
        }

        break;

    case NGX_DECLINED:
        break;

    default:
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* opts: {"rooms", "except", "flags"} in any order; mp moves past it */

static ngx_int_t
ngx_socketio_codec_opts(ngx_socketio_mp_t *mp, ngx_socketio_broadcast_t *bc)
{
    uint32_t               n;
    ngx_socketio_mp_t      opts, v;
    ngx_socketio_mp_obj_t  o;

    if (ngx_socketio_codec_entries(mp, &opts, &n) != NGX_OK) {
        return NGX_ERROR;
    }

    bc->nrooms = 0;
    bc->nexcept = 0;
    bc->flags = 0;
    bc->timeout = 0;

    if (ngx_socketio_mp_map_find(&opts, n, "rooms", &v) == NGX_OK) {
        if (ngx_socketio_mp_read(&v, &o) != NGX_OK
            || o.type != NGX_SOCKETIO_MP_ARRAY)
        {
            return NGX_ERROR;
        }

        bc->rooms = v;
        bc->nrooms = o.len;
    }

    if (ngx_socketio_mp_map_find(&opts, n, "except", &v) == NGX_OK) {
        if (ngx_socketio_mp_read(&v, &o) != NGX_OK
            || o.type != NGX_SOCKETIO_MP_ARRAY)
        {
            return NGX_ERROR;
        }

        bc->except = v;
        bc->nexcept = o.len;
    }

    if (ngx_socketio_mp_map_find(&opts, n, "flags", &v) == NGX_OK) {
        ngx_socketio_mp_t      fl;
        ngx_socketio_mp_obj_t  f;

        if (ngx_socketio_mp_read(&v, &f) != NGX_OK) {
            return NGX_ERROR;
        }

        if (f.type == NGX_SOCKETIO_MP_MAP) {

            if (ngx_socketio_mp_map_find(&v, f.len, "volatile", &fl)
                == NGX_OK
                && ngx_socketio_mp_read(&fl, &o) == NGX_OK
                && o.type == NGX_SOCKETIO_MP_BOOL && o.v.b)
            {
                bc->flags |= NGX_SOCKETIO_FLAG_VOLATILE;
            }

            /* .timeout(ms): how long the requester waits for acks */

            if (ngx_socketio_mp_map_find(&v, f.len, "timeout", &fl) == NGX_OK
                && ngx_socketio_mp_read(&fl, &o) == NGX_OK
                && o.type == NGX_SOCKETIO_MP_UINT)
            {
                bc->timeout = (ngx_msec_t) ngx_min(o.v.u, 86400000);
            }

            /* compress defaults to true */

            if (!(ngx_socketio_mp_map_find(&v, f.len, "compress", &fl)
                  == NGX_OK
                  && ngx_socketio_mp_read(&fl, &o) == NGX_OK
                  && o.type == NGX_SOCKETIO_MP_BOOL && !o.v.b))
            {
                bc->flags |= NGX_SOCKETIO_FLAG_COMPRESS;
            }
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_socketio_codec_names(ngx_socketio_mp_t *mp, uint32_t n,
    ngx_socketio_names_t *names)
{
    double                 d;
    u_char                *s;
    uint32_t               i;
    ngx_socketio_mp_t      cur;
    ngx_socketio_mp_obj_t  o;

    names->alloc = NULL;
    names->n = 0;

    if (n <= 16) {
        names->names = names->inline_names;
        names->scratch = names->inline_scratch;

    } else {
        names->alloc = malloc(n * (sizeof(ngx_str_t)
                                   + NGX_SOCKETIO_JSON_NUMBER_LEN));
        if (names->alloc == NULL) {
            return NGX_ERROR;
        }

        names->names = names->alloc;
        names->scratch = (u_char *) (names->names + n);
    }

    cur = *mp;
    s = names->scratch;

    for (i = 0; i < n; i++) {

        if (ngx_socketio_mp_read(&cur, &o) != NGX_OK) {
            goto failed;
        }

        switch (o.type) {

        case NGX_SOCKETIO_MP_STR:
            names->names[names->n].data = (u_char *) o.ptr;
            names->names[names->n].len = o.len;
            names->n++;
            break;

        case NGX_SOCKETIO_MP_UINT:
        case NGX_SOCKETIO_MP_INT:
        case NGX_SOCKETIO_MP_FLOAT:

            /*
             * socket.join(123): a number on the wire; here the room of
             * that decimal name (PROTOCOL 3.1)
             */

            (void) ngx_socketio_mp_number(&o, &d);

            names->names[names->n].data = s;
            names->names[names->n].len = ngx_socketio_codec_number(s, d);
            names->n++;
            s += NGX_SOCKETIO_JSON_NUMBER_LEN;
            break;

        default:
            /* not a room name: skip it, as Set.has() would never match */

            if (o.type == NGX_SOCKETIO_MP_ARRAY
                || o.type == NGX_SOCKETIO_MP_MAP)
            {
                goto failed;
            }

            break;
        }
    }

    return NGX_OK;

failed:

    ngx_socketio_codec_names_free(names);

    return NGX_ERROR;
}


void
ngx_socketio_codec_names_free(ngx_socketio_names_t *names)
{
    free(names->alloc);
    names->alloc = NULL;
}


ngx_socketio_frame_t *
ngx_socketio_codec_frame(ngx_socketio_mp_t *data, ngx_uint_t type,
    ngx_str_t *nsp, uint64_t id)
{
    u_char                    *head, *last;
    size_t                     reserve;
    ngx_uint_t                 i;
    ngx_socketio_mp_t          mp;
    ngx_socketio_wbuf_t        b;
    ngx_socketio_frame_t      *frame;
    ngx_socketio_codec_ctx_t   ctx;

    reserve = ngx_socketio_packet_head_size(nsp);

    if (ngx_socketio_frame_start(&b, reserve,
                                 (data->end - data->pos) + 64)
        != NGX_OK)
    {
        return NULL;
    }

    ctx.b = &b;
    ctx.end = data->end;
    ctx.att = ctx.inline_att;
    ctx.natt = 0;
    ctx.nalloc = sizeof(ctx.inline_att) / sizeof(ctx.inline_att[0]);
    ctx.binary = 1;

    mp = *data;

    if (ngx_socketio_codec_value(&ctx, &mp) != NGX_OK) {
        b.failed = 1;
        goto done;
    }

    /* the head carries the attachment count: known only now */

    if (ctx.natt) {
        if (type == NGX_SOCKETIO_EVENT) {
            type = NGX_SOCKETIO_BINARY_EVENT;

        } else if (type == NGX_SOCKETIO_ACK) {
            type = NGX_SOCKETIO_BINARY_ACK;
        }
    }

    head = malloc(reserve);
    if (head == NULL) {
        b.failed = 1;
        goto done;
    }

    last = ngx_socketio_packet_head_write(head, type, ctx.natt, nsp, id);

    ngx_socketio_frame_prepend(&b, head, last - head);
    free(head);

    ngx_socketio_frame_text_done(&b, NGX_SOCKETIO_WS_TEXT);

    for (i = 0; i < ctx.natt; i++) {
        ngx_socketio_frame_binary(&b, ctx.att[i].ptr, ctx.att[i].len);
    }

done:

    if (ctx.att != ctx.inline_att) {
        free(ctx.att);
    }

    frame = ngx_socketio_frame_finish(&b);

    return frame;
}


ngx_int_t
ngx_socketio_codec_json(ngx_socketio_wbuf_t *b, ngx_socketio_mp_t *mp)
{
    ngx_socketio_codec_ctx_t  ctx;

    ctx.b = b;
    ctx.end = mp->end;
    ctx.att = ctx.inline_att;
    ctx.natt = 0;
    ctx.nalloc = 0;
    ctx.binary = 0;

    return ngx_socketio_codec_value(&ctx, mp);
}


static ngx_int_t
ngx_socketio_codec_value(ngx_socketio_codec_ctx_t *ctx, ngx_socketio_mp_t *mp)
{
    uint32_t               i;
    ngx_socketio_mp_t      peek;
    ngx_socketio_mp_obj_t  o, e;

    if (ngx_socketio_mp_read(mp, &o) != NGX_OK) {
        return NGX_ERROR;
    }

    switch (o.type) {

    case NGX_SOCKETIO_MP_NIL:
        ngx_socketio_wbuf_str(ctx->b, "null");
        return NGX_OK;

    case NGX_SOCKETIO_MP_BOOL:
        if (o.v.b) {
            ngx_socketio_wbuf_str(ctx->b, "true");

        } else {
            ngx_socketio_wbuf_str(ctx->b, "false");
        }

        return NGX_OK;

    case NGX_SOCKETIO_MP_UINT:
        ngx_socketio_json_uint(ctx->b, o.v.u);
        return NGX_OK;

    case NGX_SOCKETIO_MP_INT:
        ngx_socketio_json_int(ctx->b, o.v.i);
        return NGX_OK;

    case NGX_SOCKETIO_MP_FLOAT:
        ngx_socketio_json_double(ctx->b, o.v.f);
        return NGX_OK;

    case NGX_SOCKETIO_MP_STR:
        ngx_socketio_json_string(ctx->b, o.ptr, o.len);
        return NGX_OK;

    case NGX_SOCKETIO_MP_BIN:
        return ngx_socketio_codec_placeholder(ctx, o.ptr, o.len);

    case NGX_SOCKETIO_MP_ARRAY:
        ngx_socketio_wbuf_addc(ctx->b, '[');

        for (i = 0; i < o.len; i++) {

            if (i) {
                ngx_socketio_wbuf_addc(ctx->b, ',');
            }

            /* undefined in an array is written as null */

            peek = *mp;

            if (ngx_socketio_mp_read(&peek, &e) == NGX_OK
                && ngx_socketio_codec_undefined(&e))
            {
                *mp = peek;
                ngx_socketio_wbuf_str(ctx->b, "null");
                continue;
            }

            if (ngx_socketio_codec_value(ctx, mp) != NGX_OK) {
                return NGX_ERROR;
            }
        }

        ngx_socketio_wbuf_addc(ctx->b, ']');
        return NGX_OK;

    case NGX_SOCKETIO_MP_MAP:
        return ngx_socketio_codec_map(ctx, mp, o.len);

    default: /* NGX_SOCKETIO_MP_EXT */
        return ngx_socketio_codec_ext(ctx, &o);
    }
}


static ngx_int_t
ngx_socketio_codec_placeholder(ngx_socketio_codec_ctx_t *ctx,
    const u_char *p, size_t len)
{
    ngx_socketio_attachment_t  *att;

    if (!ctx->binary) {
        return NGX_ERROR;
    }

    if (ctx->natt == ctx->nalloc) {
        att = malloc(ctx->nalloc * 2 * sizeof(ngx_socketio_attachment_t));
        if (att == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(att, ctx->att,
                   ctx->natt * sizeof(ngx_socketio_attachment_t));

        if (ctx->att != ctx->inline_att) {
            free(ctx->att);
        }

        ctx->att = att;
        ctx->nalloc *= 2;
    }

    ctx->att[ctx->natt].ptr = p;
    ctx->att[ctx->natt].len = len;

    ngx_socketio_wbuf_str(ctx->b, "{\"_placeholder\":true,\"num\":");
    ngx_socketio_json_uint(ctx->b, ctx->natt);
    ngx_socketio_wbuf_addc(ctx->b, '}');

    ctx->natt++;

    return NGX_OK;
}


/*
 * notepack.io extension types: -1 timestamps (and the legacy fixext8
 * type 0) are Dates, ext 8/16/32 of type 0 an ArrayBuffer, fixext1 type 0
 * undefined; anything else the array [type, Buffer].
 */

static ngx_int_t
ngx_socketio_codec_ext(ngx_socketio_codec_ctx_t *ctx,
    ngx_socketio_mp_obj_t *o)
{
    double         ms;
    int64_t        sec;
    uint32_t       hi, lo, ns;
    const u_char  *p;

    p = o->ptr;

#define ngx_socketio_codec_be32(p)                                            \
    ((uint32_t) (p)[0] << 24 | (uint32_t) (p)[1] << 16                        \
     | (uint32_t) (p)[2] << 8 | (p)[3])

    if (o->ext == -1) {

        if (o->head == 0xd6) {
            ms = (double) ngx_socketio_codec_be32(p) * 1e3;
            ngx_socketio_json_date(ctx->b, ms);
            return NGX_OK;
        }

        if (o->head == 0xd7) {
            hi = ngx_socketio_codec_be32(p);
            lo = ngx_socketio_codec_be32(p + 4);
            sec = (int64_t) (hi & 3) << 32 | lo;
            ms = (double) sec * 1e3 + (double) (hi >> 2) / 1e6;
            ngx_socketio_json_date(ctx->b, ms);
            return NGX_OK;
        }

        if (o->head == 0xc7) {
            if (o->len != 12) {
                /* notepack would read 12 bytes and lose its place */
                return NGX_ERROR;
            }

            ns = ngx_socketio_codec_be32(p);
            sec = (int64_t) ((uint64_t) ngx_socketio_codec_be32(p + 4) << 32
                             | ngx_socketio_codec_be32(p + 8));
            ms = (double) sec * 1e3 + (double) ns / 1e6;
            ngx_socketio_json_date(ctx->b, ms);
            return NGX_OK;
        }

    } else if (o->ext == 0) {

        switch (o->head) {

        case 0xd4:
            /* undefined where no container drops it: the top level */
            ngx_socketio_wbuf_str(ctx->b, "null");
            return NGX_OK;

        case 0xc7:
        case 0xc8:
        case 0xc9:
            return ngx_socketio_codec_placeholder(ctx, p, o->len);

        case 0xd7:
            ms = (double) (int32_t) ngx_socketio_codec_be32(p) * 4294967296.0
                 + (double) ngx_socketio_codec_be32(p + 4);
            ngx_socketio_json_date(ctx->b, ms);
            return NGX_OK;

        default:
            break;
        }
    }

#undef ngx_socketio_codec_be32

    ngx_socketio_wbuf_addc(ctx->b, '[');
    ngx_socketio_json_int(ctx->b, o->ext);
    ngx_socketio_wbuf_addc(ctx->b, ',');

    if (ngx_socketio_codec_placeholder(ctx, p, o->len) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_socketio_wbuf_addc(ctx->b, ']');

    return NGX_OK;
}


/*
 * A JavaScript object built by assignment in message order, then
 * serialized: integer-like keys first in ascending order, then the others
 * in insertion order; a duplicate key keeps its first place and its last
 * value; "__proto__" is not an own property; undefined values are left out.
 */

static ngx_int_t
ngx_socketio_codec_map(ngx_socketio_codec_ctx_t *ctx, ngx_socketio_mp_t *mp,
    uint32_t n)
{
    uint32_t                     i, j, out;
    ngx_int_t                    rc;
    const u_char                *key;
    ngx_uint_t                   plain;
    ngx_socketio_mp_t            v;
    ngx_socketio_mp_obj_t        o;
    ngx_socketio_codec_entry_t  *e, *last;
    ngx_socketio_codec_entry_t   inline_entries[8];

    if (n <= 8) {
        e = inline_entries;

    } else {
        e = malloc(n * sizeof(ngx_socketio_codec_entry_t));
        if (e == NULL) {
            return NGX_ERROR;
        }
    }

    rc = NGX_ERROR;
    plain = 1;

    for (i = 0; i < n; i++) {

        if (ngx_socketio_mp_read(mp, &o) != NGX_OK
            || ngx_socketio_codec_key(&o, &e[i]) != NGX_OK)
        {
            goto done;
        }

        e[i].value = mp->pos;
        e[i].pos = i;
        e[i].skip = 0;
        key = ngx_socketio_codec_entry_key(&e[i]);

        e[i].is_index = (ngx_socketio_json_array_index(key, e[i].klen,
                                                       &e[i].index)
                         == NGX_OK);

        if (e[i].is_index) {
            plain = 0;
        }

        if (e[i].klen == 9 && ngx_memcmp(key, "__proto__", 9) == 0) {
            e[i].skip = 1;
        }

        if (ngx_socketio_mp_skip(mp) != NGX_OK) {
            goto done;
        }
    }

    if (plain && n <= 8) {
        /* small maps: look for duplicates directly */

        for (i = 1; i < n && plain; i++) {
            for (j = 0; j < i; j++) {
                if (e[i].klen == e[j].klen
                    && ngx_memcmp(ngx_socketio_codec_entry_key(&e[i]),
                                  ngx_socketio_codec_entry_key(&e[j]),
                                  e[i].klen)
                       == 0)
                {
                    plain = 0;
                    break;
                }
            }
        }

    } else {
        plain = 0;
    }

    if (!plain) {
        /* group duplicates: by key, then by position */

        ngx_qsort(e, n, sizeof(ngx_socketio_codec_entry_t),
                  ngx_socketio_codec_cmp_key);

        for (i = 0; i < n; i = j) {
            last = &e[i];

            for (j = i + 1;
                 j < n
                 && e[j].klen == e[i].klen
                 && ngx_memcmp(ngx_socketio_codec_entry_key(&e[j]),
                               ngx_socketio_codec_entry_key(&e[i]),
                               e[i].klen)
                    == 0;
                 j++)
            {
                last = &e[j];
                e[j].skip = 1;
            }

            e[i].value = last->value;
        }

        ngx_qsort(e, n, sizeof(ngx_socketio_codec_entry_t),
                  ngx_socketio_codec_cmp_order);
    }

    ngx_socketio_wbuf_addc(ctx->b, '{');

    out = 0;

    for (i = 0; i < n; i++) {

        if (e[i].skip) {
            continue;
        }

        v.pos = e[i].value;
        v.end = ctx->end;

        if (ngx_socketio_mp_read(&v, &o) != NGX_OK) {
            goto done;
        }

        if (ngx_socketio_codec_undefined(&o)) {
            continue;
        }

        v.pos = e[i].value;

        if (out++) {
            ngx_socketio_wbuf_addc(ctx->b, ',');
        }

        ngx_socketio_json_string(ctx->b, ngx_socketio_codec_entry_key(&e[i]),
                                 e[i].klen);
        ngx_socketio_wbuf_addc(ctx->b, ':');

        if (ngx_socketio_codec_value(ctx, &v) != NGX_OK) {
            goto done;
        }
    }

    ngx_socketio_wbuf_addc(ctx->b, '}');

    rc = NGX_OK;

done:

    if (e != inline_entries) {
        free(e);
    }

    return rc;
}


/* a map key as String(key) would make it */

static ngx_int_t
ngx_socketio_codec_key(ngx_socketio_mp_obj_t *o,
    ngx_socketio_codec_entry_t *e)
{
    double  d;

    e->own = 0;

    switch (o->type) {

    case NGX_SOCKETIO_MP_STR:
        e->key = o->ptr;
        e->klen = o->len;
        return NGX_OK;

    case NGX_SOCKETIO_MP_UINT:
    case NGX_SOCKETIO_MP_INT:
    case NGX_SOCKETIO_MP_FLOAT:
        (void) ngx_socketio_mp_number(o, &d);
        e->klen = ngx_socketio_codec_number(e->kbuf, d);
        e->key = NULL;
        e->own = 1;
        return NGX_OK;

    case NGX_SOCKETIO_MP_NIL:
        e->key = (u_char *) "null";
        e->klen = 4;
        return NGX_OK;

    case NGX_SOCKETIO_MP_BOOL:
        e->key = (u_char *) (o->v.b ? "true" : "false");
        e->klen = o->v.b ? 4 : 5;
        return NGX_OK;

    default:
        if (ngx_socketio_codec_undefined(o)) {
            e->key = (u_char *) "undefined";
            e->klen = 9;
            return NGX_OK;
        }

        /* containers, binary, dates as keys: not worth guessing */
        return NGX_ERROR;
    }
}


/*
 * String(number), for numbers used as names (map keys, rooms): JSON's
 * null stands for NaN and the infinities only in values.
 */

static size_t
ngx_socketio_codec_number(u_char *buf, double d)
{
    if (isnan(d)) {
        return ngx_cpymem(buf, "NaN", 3) - buf;
    }

    if (isinf(d)) {
        return (d > 0) ? ngx_cpymem(buf, "Infinity", 8) - buf
                       : ngx_cpymem(buf, "-Infinity", 9) - buf;
    }

    return ngx_socketio_json_format_double(buf, d);
}


static int ngx_libc_cdecl
ngx_socketio_codec_cmp_key(const void *one, const void *two)
{
    int                                rc;
    size_t                             len;
    const ngx_socketio_codec_entry_t  *a, *b;

    a = one;
    b = two;

    len = ngx_min(a->klen, b->klen);
    rc = ngx_memcmp(ngx_socketio_codec_entry_key(a),
                    ngx_socketio_codec_entry_key(b), len);

    if (rc) {
        return rc;
    }

    if (a->klen != b->klen) {
        return a->klen < b->klen ? -1 : 1;
    }

    return a->pos < b->pos ? -1 : (a->pos > b->pos);
}


static int ngx_libc_cdecl
ngx_socketio_codec_cmp_order(const void *one, const void *two)
{
    const ngx_socketio_codec_entry_t  *a, *b;

    a = one;
    b = two;

    if (a->is_index != b->is_index) {
        return a->is_index ? -1 : 1;
    }

    if (a->is_index && a->index != b->index) {
        return a->index < b->index ? -1 : 1;
    }

    return a->pos < b->pos ? -1 : (a->pos > b->pos);
}


typedef struct {
    const char                   *key;
    size_t                        len;
    json_t                       *value;
    uint32_t                      index;
    ngx_uint_t                    pos;
    unsigned                      is_index:1;
} ngx_socketio_codec_jkey_t;


static int ngx_libc_cdecl
ngx_socketio_codec_cmp_jkey(const void *one, const void *two)
{
    const ngx_socketio_codec_jkey_t  *a, *b;

    a = one;
    b = two;

    if (a->is_index != b->is_index) {
        return a->is_index ? -1 : 1;
    }

    if (a->is_index && a->index != b->index) {
        return a->index < b->index ? -1 : 1;
    }

    return a->pos < b->pos ? -1 : (a->pos > b->pos);
}


static ngx_int_t
ngx_socketio_codec_msgpack_value(ngx_socketio_wbuf_t *b, json_t *v,
    ngx_str_t *att, ngx_uint_t natt, ngx_uint_t depth)
{
    size_t                      i, n;
    json_t                     *e, *ph, *num;
    ngx_int_t                   rc;
    const char                 *key;
    ngx_socketio_codec_jkey_t  *keys, inline_keys[8];

    /* jansson parses no deeper than this */

    if (depth > 2048) {
        return NGX_ERROR;
    }

    switch (json_typeof(v)) {

    case JSON_NULL:
        ngx_socketio_mp_nil(b);
        return NGX_OK;

    case JSON_TRUE:
        ngx_socketio_mp_bool(b, 1);
        return NGX_OK;

    case JSON_FALSE:
        ngx_socketio_mp_bool(b, 0);
        return NGX_OK;

    case JSON_INTEGER:
        ngx_socketio_mp_int(b, json_integer_value(v));
        return NGX_OK;

    case JSON_REAL:
        ngx_socketio_mp_double(b, json_real_value(v));
        return NGX_OK;

    case JSON_STRING:
        ngx_socketio_mp_str(b, (u_char *) json_string_value(v),
                            json_string_length(v));
        return NGX_OK;

    case JSON_ARRAY:
        n = json_array_size(v);
        ngx_socketio_mp_array(b, (uint32_t) n);

        json_array_foreach(v, i, e) {
            if (ngx_socketio_codec_msgpack_value(b, e, att, natt, depth + 1)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        return NGX_OK;

    default: /* JSON_OBJECT */
        break;
    }

    /* an attachment placeholder is the attachment itself */

    ph = json_object_get(v, "_placeholder");

    if (json_is_true(ph)) {
        num = json_object_get(v, "num");

        if (!json_is_number(num)
            || json_number_value(num) < 0
            || json_number_value(num) >= (double) natt
            || json_number_value(num)
               != (double) (ngx_uint_t) json_number_value(num))
        {
            return NGX_ERROR;
        }

        n = (ngx_uint_t) json_number_value(num);
        ngx_socketio_mp_bin(b, att[n].data, att[n].len);

        return NGX_OK;
    }

    n = json_object_size(v);

    if (n <= sizeof(inline_keys) / sizeof(inline_keys[0])) {
        keys = inline_keys;

    } else {
        keys = malloc(n * sizeof(ngx_socketio_codec_jkey_t));
        if (keys == NULL) {
            return NGX_ERROR;
        }
    }

    i = 0;

    json_object_foreach(v, key, e) {
        keys[i].key = key;
        keys[i].len = ngx_strlen(key);
        keys[i].value = e;
        keys[i].pos = i;
        keys[i].is_index = (ngx_socketio_json_array_index((u_char *) key,
                                                          keys[i].len,
                                                          &keys[i].index)
                            == NGX_OK);
        i++;
    }

    ngx_qsort(keys, n, sizeof(ngx_socketio_codec_jkey_t),
              ngx_socketio_codec_cmp_jkey);

    ngx_socketio_mp_map(b, (uint32_t) n);

    rc = NGX_OK;

    for (i = 0; i < n; i++) {
        ngx_socketio_mp_str(b, (u_char *) keys[i].key, keys[i].len);

        if (ngx_socketio_codec_msgpack_value(b, keys[i].value, att, natt,
                                             depth + 1)
            != NGX_OK)
        {
            rc = NGX_ERROR;
            break;
        }
    }

    if (keys != inline_keys) {
        free(keys);
    }

    return rc;
}


ngx_int_t
ngx_socketio_codec_msgpack(ngx_socketio_wbuf_t *b, json_t *v, ngx_str_t *att,
    ngx_uint_t natt)
{
    if (ngx_socketio_codec_msgpack_value(b, v, att, natt, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    return b->failed ? NGX_ERROR : NGX_OK;
}
