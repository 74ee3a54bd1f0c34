
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_socketio_rooms.h"
#include "ngx_socketio_socket.h"
#include "ngx_socketio_shm.h"


static void ngx_socketio_rooms_insert_socket(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static void ngx_socketio_rooms_unlink(ngx_socketio_nsp_t *nsp,
    ngx_socketio_member_t *m);
static void ngx_socketio_rooms_reset_marks(void);


static ngx_array_t   *ngx_socketio_nsp_list;

/*
 * Target selection marks sockets instead of building sets: "excluded"
 * and "delivered" are two values of a generation counter.
 */
static uint32_t       ngx_socketio_rooms_generation;


ngx_socketio_nsp_t *
ngx_socketio_nsp_add(ngx_str_t *name, ngx_log_t *log)
{
    ngx_socketio_nsp_t  *nsp, **slot;

    nsp = ngx_socketio_nsp_find(name);
    if (nsp) {
        return nsp;
    }

    if (ngx_socketio_nsp_list == NULL) {
        ngx_socketio_nsp_list = ngx_array_create(ngx_cycle->pool, 4,
                                                 sizeof(ngx_socketio_nsp_t *));
        if (ngx_socketio_nsp_list == NULL) {
            return NULL;
        }
    }

    nsp = ngx_calloc(sizeof(ngx_socketio_nsp_t) + name->len, log);
    if (nsp == NULL) {
        return NULL;
    }

    nsp->name.data = (u_char *) (nsp + 1);
    nsp->name.len = name->len;
    ngx_memcpy(nsp->name.data, name->data, name->len);

    ngx_rbtree_init(&nsp->rooms, &nsp->rooms_sentinel,
                    ngx_str_rbtree_insert_value);
    ngx_rbtree_init(&nsp->sockets, &nsp->sockets_sentinel,
                    ngx_socketio_rooms_insert_socket);
    ngx_queue_init(&nsp->all);

    slot = ngx_array_push(ngx_socketio_nsp_list);
    if (slot == NULL) {
        ngx_free(nsp);
        return NULL;
    }

    nsp->index = ngx_socketio_nsp_list->nelts - 1;
    *slot = nsp;

    ngx_socketio_shm_nsp_add(nsp);

    return nsp;
}


ngx_socketio_nsp_t *
ngx_socketio_nsp_find(ngx_str_t *name)
{
    ngx_uint_t           i;
    ngx_socketio_nsp_t **nsp;

    if (ngx_socketio_nsp_list == NULL) {
        return NULL;
    }

    nsp = ngx_socketio_nsp_list->elts;

    for (i = 0; i < ngx_socketio_nsp_list->nelts; i++) {
        if (nsp[i]->name.len == name->len
            && ngx_memcmp(nsp[i]->name.data, name->data, name->len) == 0)
        {
            return nsp[i];
        }
    }

    return NULL;
}


ngx_array_t *
ngx_socketio_nsps(void)
{
    return ngx_socketio_nsp_list;
}


void
ngx_socketio_nsps_free(void)
{
    ngx_uint_t           i;
    ngx_socketio_nsp_t **nsp;

    if (ngx_socketio_nsp_list == NULL) {
        return;
    }

    nsp = ngx_socketio_nsp_list->elts;

    for (i = 0; i < ngx_socketio_nsp_list->nelts; i++) {
        ngx_free(nsp[i]->waiting);
        ngx_free(nsp[i]);
    }

    ngx_socketio_nsp_list = NULL;
}


static ngx_rbtree_key_t
ngx_socketio_rooms_sid_hash(u_char *sid)
{
    return ngx_crc32_short(sid, NGX_SOCKETIO_SID_LEN);
}


static void
ngx_socketio_rooms_insert_socket(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t     **p;
    ngx_socketio_socket_t  *s, *t;

    for ( ;; ) {

        if (node->key != temp->key) {
            p = (node->key < temp->key) ? &temp->left : &temp->right;

        } else {
            s = (ngx_socketio_socket_t *) node;
            t = (ngx_socketio_socket_t *) temp;

            p = (ngx_memcmp(s->sid, t->sid, NGX_SOCKETIO_SID_LEN) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


ngx_socketio_socket_t *
ngx_socketio_rooms_socket(ngx_socketio_nsp_t *nsp, ngx_str_t *sid)
{
    ngx_int_t               rc;
    ngx_rbtree_key_t        hash;
    ngx_rbtree_node_t      *node, *sentinel;
    ngx_socketio_socket_t  *s;

    if (sid->len != NGX_SOCKETIO_SID_LEN) {
        return NULL;
    }

    hash = ngx_socketio_rooms_sid_hash(sid->data);

    node = nsp->sockets.root;
    sentinel = nsp->sockets.sentinel;

    while (node != sentinel) {

        if (hash != node->key) {
            node = (hash < node->key) ? node->left : node->right;
            continue;
        }

        s = (ngx_socketio_socket_t *) node;
        rc = ngx_memcmp(sid->data, s->sid, NGX_SOCKETIO_SID_LEN);

        if (rc == 0) {
            return s;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


ngx_socketio_room_t *
ngx_socketio_rooms_find(ngx_socketio_nsp_t *nsp, ngx_str_t *name)
{
    return (ngx_socketio_room_t *)
               ngx_str_rbtree_lookup(&nsp->rooms, name,
                                     ngx_crc32_short(name->data, name->len));
}


ngx_int_t
ngx_socketio_rooms_exists(ngx_socketio_nsp_t *nsp, ngx_str_t *name)
{
    return ngx_socketio_rooms_find(nsp, name) != NULL
           || ngx_socketio_rooms_socket(nsp, name) != NULL;
}


void
ngx_socketio_rooms_add_socket(ngx_socketio_socket_t *s)
{
    ngx_str_t            sid;
    ngx_socketio_nsp_t  *nsp;

    nsp = s->nsp;

    s->node.key = ngx_socketio_rooms_sid_hash(s->sid);
    ngx_rbtree_insert(&nsp->sockets, &s->node);
    ngx_queue_insert_tail(&nsp->all, &s->queue);
    nsp->nsockets++;

    ngx_socketio_shm_sockets(nsp);

    if (nsp->room_added) {
        sid.data = s->sid;
        sid.len = NGX_SOCKETIO_SID_LEN;
        nsp->room_added(nsp, &sid);
    }
}


void
ngx_socketio_rooms_remove_socket(ngx_socketio_socket_t *s)
{
    ngx_str_t               sid;
    ngx_socketio_nsp_t     *nsp;
    ngx_socketio_member_t  *m;

    nsp = s->nsp;

    while (s->rooms) {
        m = s->rooms;
        s->rooms = m->next;
        ngx_socketio_rooms_unlink(nsp, m);
    }

    ngx_rbtree_delete(&nsp->sockets, &s->node);
    ngx_queue_remove(&s->queue);
    nsp->nsockets--;

    ngx_socketio_shm_sockets(nsp);

    if (nsp->room_removed) {
        sid.data = s->sid;
        sid.len = NGX_SOCKETIO_SID_LEN;
        nsp->room_removed(nsp, &sid);
    }
}


ngx_int_t
ngx_socketio_rooms_join(ngx_socketio_socket_t *s, ngx_str_t *name)
{
    ngx_uint_t               created;
    ngx_socketio_nsp_t      *nsp;
    ngx_socketio_room_t     *room;
    ngx_socketio_member_t   *m, **last;

    nsp = s->nsp;

    /* the socket's own room: it is always in it */

    if (name->len == NGX_SOCKETIO_SID_LEN
        && ngx_memcmp(name->data, s->sid, NGX_SOCKETIO_SID_LEN) == 0)
    {
        return NGX_OK;
    }

    for (last = &s->rooms; *last; last = &(*last)->next) {
        room = (*last)->room;

        if (room->sn.str.len == name->len
            && ngx_memcmp(room->sn.str.data, name->data, name->len) == 0)
        {
            return NGX_OK;
        }
    }

    m = ngx_alloc(sizeof(ngx_socketio_member_t), ngx_cycle->log);
    if (m == NULL) {
        return NGX_ERROR;
    }

    created = 0;
    room = ngx_socketio_rooms_find(nsp, name);

    if (room == NULL) {
        room = ngx_alloc(sizeof(ngx_socketio_room_t) + name->len,
                         ngx_cycle->log);
        if (room == NULL) {
            ngx_free(m);
            return NGX_ERROR;
        }

        room->sn.str.data = room->name;
        room->sn.str.len = name->len;
        room->sn.node.key = ngx_crc32_short(name->data, name->len);
        ngx_memcpy(room->name, name->data, name->len);

        ngx_queue_init(&room->members);
        room->n = 0;

        ngx_rbtree_insert(&nsp->rooms, &room->sn.node);
        nsp->nrooms++;
        created = 1;
    }

    m->room = room;
    m->socket = s;
    m->next = NULL;
    ngx_queue_insert_tail(&room->members, &m->queue);
    room->n++;

    *last = m;

    /* the instance-wide index: the socket id rooms are not in it */

    if (created) {
        ngx_socketio_shm_room_add(nsp, room);

    } else {
        ngx_socketio_shm_room_members(room);
    }

    if (created && nsp->room_added) {
        nsp->room_added(nsp, &room->sn.str);
    }

    return NGX_OK;
}


void
ngx_socketio_rooms_leave(ngx_socketio_socket_t *s, ngx_str_t *name)
{
    ngx_socketio_member_t  *m, **pm;

    for (pm = &s->rooms; *pm; pm = &(*pm)->next) {
        m = *pm;

        if (m->room->sn.str.len == name->len
            && ngx_memcmp(m->room->sn.str.data, name->data, name->len) == 0)
        {
            *pm = m->next;
            ngx_socketio_rooms_unlink(s->nsp, m);
            return;
        }
    }
}


static void
ngx_socketio_rooms_unlink(ngx_socketio_nsp_t *nsp, ngx_socketio_member_t *m)
{
    ngx_socketio_room_t  *room;

    room = m->room;

    ngx_queue_remove(&m->queue);
    ngx_free(m);

    if (--room->n) {
        ngx_socketio_shm_room_members(room);
        return;
    }

    ngx_socketio_shm_room_delete(room);

    ngx_rbtree_delete(&nsp->rooms, &room->sn.node);
    nsp->nrooms--;

    if (nsp->room_removed) {
        nsp->room_removed(nsp, &room->sn.str);
    }

    ngx_free(room);
}


ngx_uint_t
ngx_socketio_rooms_select(ngx_socketio_nsp_t *nsp, ngx_str_t *rooms,
    ngx_uint_t nrooms, ngx_str_t *except, ngx_uint_t nexcept,
    ngx_socketio_visit_pt visit, void *data)
{
    uint32_t                excluded, done;
    ngx_uint_t              i, n;
    ngx_queue_t            *q;
    ngx_socketio_room_t    *room;
    ngx_socketio_socket_t  *s;
    ngx_socketio_member_t  *m;

    if (ngx_socketio_rooms_generation >= 0xfffffffc) {
        ngx_socketio_rooms_reset_marks();
    }

    ngx_socketio_rooms_generation += 2;
    excluded = ngx_socketio_rooms_generation;
    done = excluded + 1;

    for (i = 0; i < nexcept; i++) {

        room = ngx_socketio_rooms_find(nsp, &except[i]);

        if (room) {
            for (q = ngx_queue_head(&room->members);
                 q != ngx_queue_sentinel(&room->members);
                 q = ngx_queue_next(q))
            {
                m = ngx_queue_data(q, ngx_socketio_member_t, queue);
                m->socket->mark = excluded;
            }
        }

        s = ngx_socketio_rooms_socket(nsp, &except[i]);

        if (s) {
            s->mark = excluded;
        }
    }

    n = 0;

    if (nrooms == 0) {
        for (q = ngx_queue_head(&nsp->all);
             q != ngx_queue_sentinel(&nsp->all);
             q = ngx_queue_next(q))
        {
            s = ngx_queue_data(q, ngx_socketio_socket_t, queue);

            if (s->mark != excluded) {
                visit(s, data);
                n++;
            }
        }

        return n;
    }

    for (i = 0; i < nrooms; i++) {

        room = ngx_socketio_rooms_find(nsp, &rooms[i]);

        if (room) {
            for (q = ngx_queue_head(&room->members);
                 q != ngx_queue_sentinel(&room->members);
                 q = ngx_queue_next(q))
            {
                m = ngx_queue_data(q, ngx_socketio_member_t, queue);
                s = m->socket;

                if (s->mark != excluded && s->mark != done) {
                    s->mark = done;
                    visit(s, data);
                    n++;
                }
            }
        }

        s = ngx_socketio_rooms_socket(nsp, &rooms[i]);

        if (s && s->mark != excluded && s->mark != done) {
            s->mark = done;
            visit(s, data);
            n++;
        }
    }

    return n;
}


static void
ngx_socketio_rooms_reset_marks(void)
{
    ngx_uint_t              i;
    ngx_queue_t            *q;
    ngx_socketio_nsp_t    **nsp;
    ngx_socketio_socket_t  *s;

    nsp = ngx_socketio_nsp_list->elts;

    for (i = 0; i < ngx_socketio_nsp_list->nelts; i++) {
        for (q = ngx_queue_head(&nsp[i]->all);
             q != ngx_queue_sentinel(&nsp[i]->all);
             q = ngx_queue_next(q))
        {
            s = ngx_queue_data(q, ngx_socketio_socket_t, queue);
            s->mark = 0;
        }
    }

    ngx_socketio_rooms_generation = 0;
}
