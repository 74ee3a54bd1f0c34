
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_socketio_ops.h"
#include "ngx_socketio_codec.h"
#include "ngx_socketio_packet.h"
#include "ngx_socketio_rooms.h"
#include "ngx_socketio_stats.h"


/*
 * The sockets an operation applies to, selected first: joining, leaving
 * and disconnecting change the rooms that selection walks.
 */

typedef struct {
    ngx_socketio_socket_t   **s;
    ngx_uint_t                n;
    ngx_uint_t                size;
    ngx_uint_t                failed;
    ngx_socketio_socket_t    *inline_s[16];
} ngx_socketio_ops_list_t;


static void ngx_socketio_ops_collect(ngx_socketio_socket_t *s, void *data);
static ngx_int_t ngx_socketio_ops_select(ngx_socketio_nsp_t *nsp,
    ngx_socketio_opts_t *opts, ngx_socketio_ops_list_t *list);
static void ngx_socketio_ops_list_free(ngx_socketio_ops_list_t *list);

/* one socket in a JSON array, after a comma unless it is the first */
typedef void (*ngx_socketio_ops_write_pt)(ngx_socketio_wbuf_t *b,
    ngx_socketio_socket_t *s, ngx_uint_t comma);

static void ngx_socketio_ops_sid(ngx_socketio_wbuf_t *b,
    ngx_socketio_socket_t *s, ngx_uint_t comma);
static void ngx_socketio_ops_socket_json(ngx_socketio_wbuf_t *b,
    ngx_socketio_socket_t *s, ngx_uint_t comma);
static ngx_uint_t ngx_socketio_ops_membership(ngx_socketio_nsp_t *nsp,
    ngx_socketio_opts_t *opts, ngx_str_t *names, ngx_uint_t n,
    ngx_uint_t join);
static ngx_uint_t ngx_socketio_ops_array(ngx_socketio_nsp_t *nsp,
    ngx_socketio_opts_t *opts, ngx_socketio_wbuf_t *b,
    ngx_socketio_ops_write_pt write);


static ngx_int_t
ngx_socketio_ops_select(ngx_socketio_nsp_t *nsp, ngx_socketio_opts_t *opts,
    ngx_socketio_ops_list_t *list)
{
    list->s = list->inline_s;
    list->n = 0;
    list->size = sizeof(list->inline_s) / sizeof(list->inline_s[0]);
    list->failed = 0;

    (void) ngx_socketio_rooms_select(nsp, opts->rooms, opts->nrooms,
                                     opts->except, opts->nexcept,
                                     ngx_socketio_ops_collect, list);

    if (list->failed) {
        ngx_socketio_ops_list_free(list);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_socketio_ops_collect(ngx_socketio_socket_t *s, void *data)
{
    ngx_socketio_ops_list_t  *list = data;

    ngx_socketio_socket_t  **bigger;

    if (list->n == list->size) {
        bigger = ngx_alloc(list->size * 2 * sizeof(ngx_socketio_socket_t *),
                           ngx_cycle->log);
        if (bigger == NULL) {
            list->failed = 1;
            return;
        }

        ngx_memcpy(bigger, list->s, list->n * sizeof(ngx_socketio_socket_t *));

        if (list->s != list->inline_s) {
            ngx_free(list->s);
        }

        list->s = bigger;
        list->size *= 2;
    }

    list->s[list->n++] = s;
}


static void
ngx_socketio_ops_list_free(ngx_socketio_ops_list_t *list)
{
    if (list->s != list->inline_s) {
        ngx_free(list->s);
    }
}


/* "sid" in a JSON array, after a comma unless it is the first */

static void
ngx_socketio_ops_sid(ngx_socketio_wbuf_t *b, ngx_socketio_socket_t *s,
    ngx_uint_t comma)
{
    if (comma) {
        ngx_socketio_wbuf_addc(b, ',');
    }

    ngx_socketio_wbuf_addc(b, '"');
    ngx_socketio_wbuf_add(b, s->sid, NGX_SOCKETIO_SID_LEN);
    ngx_socketio_wbuf_addc(b, '"');
}


/* what fetchSockets() returns of a socket (PROTOCOL 4.4, type 5) */

static void
ngx_socketio_ops_socket_json(ngx_socketio_wbuf_t *b, ngx_socketio_socket_t *s,
    ngx_uint_t comma)
{
    ngx_socketio_member_t  *m;
    ngx_socketio_client_t  *client;

    client = s->client;

    if (comma) {
        ngx_socketio_wbuf_addc(b, ',');
    }

    ngx_socketio_wbuf_str(b, "{\"id\":\"");
    ngx_socketio_wbuf_add(b, s->sid, NGX_SOCKETIO_SID_LEN);
    ngx_socketio_wbuf_str(b, "\",\"handshake\":");
    ngx_socketio_wbuf_add(b, client->handshake.data, client->handshake.len);
    ngx_socketio_wbuf_str(b, ",\"auth\":");

    if (s->auth) {
        ngx_socketio_wbuf_add(b, s->auth, ngx_strlen(s->auth));

    } else {
        ngx_socketio_wbuf_str(b, "{}");
    }

    /* the rooms in join order, its own first */

    ngx_socketio_wbuf_str(b, "},\"rooms\":[\"");
    ngx_socketio_wbuf_add(b, s->sid, NGX_SOCKETIO_SID_LEN);
    ngx_socketio_wbuf_addc(b, '"');

    for (m = s->rooms; m; m = m->next) {
        ngx_socketio_wbuf_addc(b, ',');
        ngx_socketio_json_string(b, m->room->sn.str.data, m->room->sn.str.len);
    }

    ngx_socketio_wbuf_str(b, "],\"data\":");
    ngx_socketio_wbuf_add(b, client->data.data, client->data.len);
    ngx_socketio_wbuf_addc(b, '}');
}


/* a JSON array of the matching sockets, each as "write" puts it */

static ngx_uint_t
ngx_socketio_ops_array(ngx_socketio_nsp_t *nsp, ngx_socketio_opts_t *opts,
    ngx_socketio_wbuf_t *b, ngx_socketio_ops_write_pt write)
{
    ngx_uint_t               i, n;
    ngx_socketio_ops_list_t  list;

    ngx_socketio_wbuf_addc(b, '[');

    if (ngx_socketio_ops_select(nsp, opts, &list) != NGX_OK) {
        b->failed = 1;
        return 0;
    }

    for (i = 0; i < list.n; i++) {
        write(b, list.s[i], i);
    }

    n = list.n;
    ngx_socketio_ops_list_free(&list);

    ngx_socketio_wbuf_addc(b, ']');

    return n;
}


ngx_uint_t
ngx_socketio_ops_fetch(ngx_socketio_nsp_t *nsp, ngx_socketio_opts_t *opts,
    ngx_socketio_wbuf_t *b)
{
    return ngx_socketio_ops_array(nsp, opts, b, ngx_socketio_ops_socket_json);
}


ngx_uint_t
ngx_socketio_ops_sockets(ngx_socketio_nsp_t *nsp, ngx_socketio_opts_t *opts,
    ngx_socketio_wbuf_t *b)
{
    return ngx_socketio_ops_array(nsp, opts, b, ngx_socketio_ops_sid);
}


void
ngx_socketio_ops_rooms(ngx_socketio_nsp_t *nsp, ngx_socketio_wbuf_t *b)
{
    ngx_uint_t              first;
    ngx_queue_t            *q;
    ngx_rbtree_node_t      *node, *root, *sentinel;
    ngx_socketio_room_t    *room;
    ngx_socketio_socket_t  *s;

    ngx_socketio_wbuf_addc(b, '[');

    first = 1;

    for (q = ngx_queue_head(&nsp->all);
         q != ngx_queue_sentinel(&nsp->all);
         q = ngx_queue_next(q))
    {
        s = ngx_queue_data(q, ngx_socketio_socket_t, queue);

        ngx_socketio_ops_sid(b, s, !first);
        first = 0;
    }

    root = nsp->rooms.root;
    sentinel = nsp->rooms.sentinel;

    if (root != sentinel) {
        for (node = ngx_rbtree_min(root, sentinel);
             node;
             node = ngx_rbtree_next(&nsp->rooms, node))
        {
            room = (ngx_socketio_room_t *) node;

            if (!first) {
                ngx_socketio_wbuf_addc(b, ',');
            }

            ngx_socketio_json_string(b, room->sn.str.data, room->sn.str.len);
            first = 0;
        }
    }

    ngx_socketio_wbuf_addc(b, ']');
}


ngx_uint_t
ngx_socketio_ops_join(ngx_socketio_nsp_t *nsp, ngx_socketio_opts_t *opts,
    ngx_str_t *names, ngx_uint_t n)
{
    return ngx_socketio_ops_membership(nsp, opts, names, n, 1);
}


ngx_uint_t
ngx_socketio_ops_leave(ngx_socketio_nsp_t *nsp, ngx_socketio_opts_t *opts,
    ngx_str_t *names, ngx_uint_t n)
{
    return ngx_socketio_ops_membership(nsp, opts, names, n, 0);
}


/* the matching sockets join (or leave) every one of names */

static ngx_uint_t
ngx_socketio_ops_membership(ngx_socketio_nsp_t *nsp, ngx_socketio_opts_t *opts,
    ngx_str_t *names, ngx_uint_t n, ngx_uint_t join)
{
    ngx_uint_t               i, j, count;
    ngx_socketio_ops_list_t  list;

    if (ngx_socketio_ops_select(nsp, opts, &list) != NGX_OK) {
        return 0;
    }

    for (i = 0; i < list.n; i++) {
        for (j = 0; j < n; j++) {
            if (join) {
                (void) ngx_socketio_rooms_join(list.s[i], &names[j]);

            } else {
                ngx_socketio_rooms_leave(list.s[i], &names[j]);
            }
        }
    }

    count = list.n;
    ngx_socketio_ops_list_free(&list);

    return count;
}


ngx_uint_t
ngx_socketio_ops_disconnect(ngx_socketio_nsp_t *nsp, ngx_socketio_opts_t *opts,
    ngx_uint_t close)
{
    ngx_uint_t               i, count;
    ngx_socketio_ops_list_t  list;

    if (ngx_socketio_ops_select(nsp, opts, &list) != NGX_OK) {
        return 0;
    }

    /*
     * one socket per connection in a namespace: closing a connection
     * frees none of the other selected sockets
     */

    for (i = 0; i < list.n; i++) {
        ngx_socketio_socket_disconnect(list.s[i], close);
    }

    count = list.n;
    ngx_socketio_ops_list_free(&list);

    return count;
}


ngx_int_t
ngx_socketio_ops_broadcast_ack(ngx_socketio_nsp_t *nsp,
    ngx_socketio_opts_t *opts, ngx_socketio_mp_t *data, ngx_uint_t flags,
    ngx_socketio_ack_t *ack, ngx_uint_t *count)
{
    uint64_t                  id;
    ngx_uint_t                i;
    ngx_socketio_frame_t     *frame;
    ngx_socketio_ops_list_t   list;

    *count = 0;

    if (ngx_socketio_ops_select(nsp, opts, &list) != NGX_OK) {
        return NGX_ERROR;
    }

    if (list.n == 0) {
        ngx_socketio_ops_list_free(&list);
        return NGX_OK;
    }

    /*
     * one id for every target, as Node does: the frame is encoded once
     * and shared, like any broadcast
     */

    id = nsp->ack_ids++;

    frame = ngx_socketio_codec_frame(data, NGX_SOCKETIO_EVENT, &nsp->name, id);
    if (frame == NULL) {
        ngx_socketio_ops_list_free(&list);
        return NGX_ERROR;
    }

    for (i = 0; i < list.n; i++) {
        if (ngx_socketio_socket_expect_ack(list.s[i], id, ack) != NGX_OK) {
            continue;
        }

        (void) ngx_socketio_socket_send(list.s[i], frame, flags);
        (*count)++;
    }

    ngx_socketio_frame_release(frame);
    ngx_socketio_ops_list_free(&list);

    return NGX_OK;
}
