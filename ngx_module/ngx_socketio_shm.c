
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_socketio_shm.h"
#include "ngx_socketio_rooms.h"


static ngx_int_t ngx_socketio_shm_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_socketio_shm_clear(ngx_socketio_shm_t *shm,
    ngx_socketio_shm_slot_t *slot);
static ngx_socketio_shm_nsp_t *ngx_socketio_shm_nsp_get(
    ngx_socketio_shm_t *shm, ngx_str_t *name);
static void ngx_socketio_shm_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static void ngx_socketio_shm_nomem(void);


/* the counters of this worker: in its slot once it has one */

static ngx_socketio_stats_t      ngx_socketio_local_stats;
ngx_socketio_stats_t            *ngx_socketio_stats = &ngx_socketio_local_stats;


static ngx_socketio_shm_t       *ngx_socketio_shm;
static ngx_socketio_shm_slot_t  *ngx_socketio_shm_own;
static ngx_uint_t                ngx_socketio_shm_index;
static ngx_uint_t                ngx_socketio_shm_nomem_logged;


size_t
ngx_socketio_shm_min_size(void)
{
    /* the slot table, and pages for the slab allocator's own use */

    return ngx_align(NGX_SOCKETIO_SHM_SLOTS * NGX_SOCKETIO_SHM_SLOT_SIZE,
                     ngx_pagesize)
           + 64 * ngx_pagesize;
}


ngx_shm_zone_t *
ngx_socketio_shm_add(ngx_conf_t *cf, size_t size, void *tag)
{
    ngx_str_t            name;
    ngx_shm_zone_t      *zone;
    ngx_socketio_shm_t  *shm;

    shm = ngx_pcalloc(cf->pool, sizeof(ngx_socketio_shm_t));
    if (shm == NULL) {
        return NULL;
    }

    ngx_str_set(&name, "socketio");

    zone = ngx_shared_memory_add(cf, &name, size, tag);
    if (zone == NULL) {
        return NULL;
    }

    if (zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "shared memory zone \"%V\" is already used",
                           &name);
        return NULL;
    }

    zone->init = ngx_socketio_shm_init_zone;
    zone->data = shm;

    return zone;
}


static ngx_int_t
ngx_socketio_shm_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_socketio_shm_t  *oshm = data;

    size_t                    len;
    ngx_uint_t                i;
    ngx_socketio_shm_t       *shm;
    ngx_socketio_shm_slot_t  *slot;

    shm = shm_zone->data;

    if (oshm) {
        /*
         * nginx -s reload with the same size: the zone is the old one, and
         * the workers of the old configuration, still shutting down, keep
         * their slots in it until they exit
         */

        shm->sh = oshm->sh;
        shm->shpool = oshm->shpool;

        return NGX_OK;
    }

    shm->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        shm->sh = shm->shpool->data;
        return NGX_OK;
    }

    shm->sh = ngx_slab_calloc(shm->shpool, sizeof(ngx_socketio_shm_sh_t));
    if (shm->sh == NULL) {
        return NGX_ERROR;
    }

    shm->shpool->data = shm->sh;

    /* page aligned: slots stay a cache line apart */

    shm->sh->slots = ngx_slab_calloc(shm->shpool, NGX_SOCKETIO_SHM_SLOTS
                                                  * NGX_SOCKETIO_SHM_SLOT_SIZE);
    if (shm->sh->slots == NULL) {
        return NGX_ERROR;
    }

    ngx_queue_init(&shm->sh->nsps);

    for (i = 0; i < NGX_SOCKETIO_SHM_SLOTS; i++) {
        slot = ngx_socketio_shm_slot(shm->sh, i);
        ngx_queue_init(&slot->nsps);
        ngx_queue_init(&slot->rooms);
    }

    len = sizeof(" in socketio zone \"\"") + shm_zone->shm.name.len;

    shm->shpool->log_ctx = ngx_slab_alloc(shm->shpool, len);
    if (shm->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(shm->shpool->log_ctx, " in socketio zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* a full zone only degrades the room index: logged once, by us */

    shm->shpool->log_nomem = 0;

    return NGX_OK;
}


/*
 * In the master, once a configuration is loaded for good: nothing after
 * init_module can fail a reload.  Workers tell their own predecessor from
 * the old workers of a reload by it.
 */

ngx_int_t
ngx_socketio_shm_init_module(ngx_shm_zone_t *zone)
{
    ngx_socketio_shm_t  *shm;

    shm = zone->data;

    /* only the master writes it, and workers are forked after */

    shm->generation = ++shm->sh->generation;

    return NGX_OK;
}


void
ngx_socketio_shm_init_process(ngx_shm_zone_t *zone, ngx_log_t *log)
{
    ngx_uint_t                i, take;
    const char               *why;
    ngx_socketio_shm_t       *shm;
    ngx_socketio_shm_slot_t  *slot;

    ngx_memzero(&ngx_socketio_local_stats, sizeof(ngx_socketio_stats_t));

    if (zone == NULL) {
        return;
    }

    shm = zone->data;
    ngx_socketio_shm = shm;

    take = NGX_SOCKETIO_SHM_SLOTS;

    ngx_shmtx_lock(&shm->shpool->mutex);

    for (i = 0; i < NGX_SOCKETIO_SHM_SLOTS; i++) {

        slot = ngx_socketio_shm_slot(shm->sh, i);

        if (slot->pid == 0) {
            if (take == NGX_SOCKETIO_SHM_SLOTS) {
                take = i;
            }

            continue;
        }

        if (slot->worker == ngx_worker
            && slot->generation == shm->generation)
        {
            /*
             * nginx respawns a worker of a configuration only after it
             * died: this is our predecessor, killed or crashed, and its
             * slot is ours
             */

            why = "restarted";
            take = i;

        } else if (slot->pid == ngx_pid
                   || !ngx_socketio_shm_slot_alive(slot))
        {
            /* a worker that died with no successor (a reload since) */

            why = "gone";

            if (take == NGX_SOCKETIO_SHM_SLOTS) {
                take = i;
            }

        } else {
            /* a live worker, perhaps an old one shutting down */
            continue;
        }

        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "socketio: cleared the slot of worker %ui pid %P: %s",
                      slot->worker, slot->pid, why);

        ngx_socketio_shm_clear(shm, slot);
    }

    if (take == NGX_SOCKETIO_SHM_SLOTS) {
        ngx_shmtx_unlock(&shm->shpool->mutex);

        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "socketio: no free slot in the shared memory zone, "
                      "this worker is missing from the status");
        return;
    }

    slot = ngx_socketio_shm_slot(shm->sh, take);

    ngx_memzero(&slot->stats, sizeof(ngx_socketio_stats_t));
    slot->pid = ngx_pid;
    slot->worker = ngx_worker;
    slot->generation = shm->generation;
    slot->start = ngx_time();

    ngx_shmtx_unlock(&shm->shpool->mutex);

    ngx_socketio_shm_own = slot;
    ngx_socketio_shm_index = take;
    ngx_socketio_stats = &slot->stats;
}


void
ngx_socketio_shm_exit_process(void)
{
    ngx_socketio_shm_t  *shm;

    shm = ngx_socketio_shm;

    if (ngx_socketio_shm_own) {
        ngx_shmtx_lock(&shm->shpool->mutex);
        ngx_socketio_shm_clear(shm, ngx_socketio_shm_own);
        ngx_shmtx_unlock(&shm->shpool->mutex);
    }

    ngx_socketio_stats = &ngx_socketio_local_stats;
    ngx_socketio_shm_own = NULL;
    ngx_socketio_shm = NULL;
}


ngx_int_t
ngx_socketio_shm_slot_alive(ngx_socketio_shm_slot_t *slot)
{
    if (slot->pid == 0) {
        return 0;
    }

    /* EPERM: a process of another user has the pid, so it is not ours */

    if (kill(slot->pid, 0) == -1 && ngx_errno == NGX_ESRCH) {
        return 0;
    }

    return 1;
}


/* a slot and everything it holds go; the zone is locked */

static void
ngx_socketio_shm_clear(ngx_socketio_shm_t *shm, ngx_socketio_shm_slot_t *slot)
{
    ngx_queue_t                *q;
    ngx_socketio_shm_nsp_t     *nsp;
    ngx_socketio_shm_room_t    *room;
    ngx_socketio_shm_worker_t  *w;

    while (!ngx_queue_empty(&slot->rooms)) {
        q = ngx_queue_head(&slot->rooms);
        room = ngx_queue_data(q, ngx_socketio_shm_room_t, link);

        ngx_queue_remove(q);
        ngx_rbtree_delete(&room->nsp->rooms, &room->node);
        ngx_slab_free_locked(shm->shpool, room);
    }

    /* a namespace goes with the last worker that has it */

    while (!ngx_queue_empty(&slot->nsps)) {
        q = ngx_queue_head(&slot->nsps);
        w = ngx_queue_data(q, ngx_socketio_shm_worker_t, link);
        nsp = w->nsp;

        ngx_queue_remove(&w->link);
        ngx_queue_remove(&w->queue);
        ngx_slab_free_locked(shm->shpool, w);

        if (ngx_queue_empty(&nsp->workers)) {
            ngx_queue_remove(&nsp->queue);
            ngx_slab_free_locked(shm->shpool, nsp);
        }
    }

    ngx_memzero(&slot->stats, sizeof(ngx_socketio_stats_t));
    slot->pid = 0;
    slot->worker = 0;
    slot->generation = 0;
    slot->start = 0;
}


void
ngx_socketio_shm_nsp_add(ngx_socketio_nsp_t *nsp)
{
    ngx_socketio_shm_t         *shm;
    ngx_socketio_shm_nsp_t     *sn;
    ngx_socketio_shm_worker_t  *w;

    nsp->shm = NULL;

    if (ngx_socketio_shm_own == NULL) {
        return;
    }

    shm = ngx_socketio_shm;

    ngx_shmtx_lock(&shm->shpool->mutex);

    sn = ngx_socketio_shm_nsp_get(shm, &nsp->name);

    w = sn ? ngx_slab_alloc_locked(shm->shpool,
                                   sizeof(ngx_socketio_shm_worker_t))
           : NULL;

    if (w == NULL) {
        if (sn && ngx_queue_empty(&sn->workers)) {
            ngx_queue_remove(&sn->queue);
            ngx_slab_free_locked(shm->shpool, sn);
        }

        ngx_shmtx_unlock(&shm->shpool->mutex);
        ngx_socketio_shm_nomem();
        return;
    }

    w->nsp = sn;
    w->slot = ngx_socketio_shm_index;
    w->sockets = nsp->nsockets;

    ngx_queue_insert_tail(&sn->workers, &w->queue);
    ngx_queue_insert_tail(&ngx_socketio_shm_own->nsps, &w->link);

    ngx_shmtx_unlock(&shm->shpool->mutex);

    nsp->shm = w;
}


/* the zone's namespace of this name, a new one if needed; locked */

static ngx_socketio_shm_nsp_t *
ngx_socketio_shm_nsp_get(ngx_socketio_shm_t *shm, ngx_str_t *name)
{
    ngx_queue_t             *q;
    ngx_socketio_shm_nsp_t  *sn;

    for (q = ngx_queue_head(&shm->sh->nsps);
         q != ngx_queue_sentinel(&shm->sh->nsps);
         q = ngx_queue_next(q))
    {
        sn = ngx_queue_data(q, ngx_socketio_shm_nsp_t, queue);

        if (sn->len == name->len
            && ngx_memcmp(sn->name, name->data, name->len) == 0)
        {
            return sn;
        }
    }

    sn = ngx_slab_alloc_locked(shm->shpool,
                               offsetof(ngx_socketio_shm_nsp_t, name)
                               + name->len);
    if (sn == NULL) {
        return NULL;
    }

    ngx_queue_init(&sn->workers);
    ngx_rbtree_init(&sn->rooms, &sn->sentinel,
                    ngx_socketio_shm_rbtree_insert);

    sn->len = name->len;
    ngx_memcpy(sn->name, name->data, name->len);

    ngx_queue_insert_tail(&shm->sh->nsps, &sn->queue);

    return sn;
}


/*
 * A room of this worker's got its first member.  The lock is taken only
 * here and when the room goes: joins and leaves in between change this
 * worker's own count, which nobody else writes.
 */

void
ngx_socketio_shm_room_add(ngx_socketio_nsp_t *nsp, ngx_socketio_room_t *room)
{
    ngx_socketio_shm_t         *shm;
    ngx_socketio_shm_room_t    *r;
    ngx_socketio_shm_worker_t  *w;

    room->shm = NULL;

    w = nsp->shm;

    if (w == NULL) {
        return;
    }

    shm = ngx_socketio_shm;

    ngx_shmtx_lock(&shm->shpool->mutex);

    r = ngx_slab_alloc_locked(shm->shpool,
                              offsetof(ngx_socketio_shm_room_t, name)
                              + room->sn.str.len);

    if (r == NULL) {
        ngx_shmtx_unlock(&shm->shpool->mutex);

        ngx_socketio_stats->rooms_unindexed++;
        ngx_socketio_shm_nomem();
        return;
    }

    r->node.key = room->sn.node.key;
    r->nsp = w->nsp;
    r->slot = ngx_socketio_shm_index;
    r->members = room->n;
    r->len = room->sn.str.len;
    ngx_memcpy(r->name, room->sn.str.data, r->len);

    ngx_rbtree_insert(&w->nsp->rooms, &r->node);
    ngx_queue_insert_tail(&ngx_socketio_shm_own->rooms, &r->link);

    ngx_shmtx_unlock(&shm->shpool->mutex);

    room->shm = r;
}


void
ngx_socketio_shm_room_delete(ngx_socketio_room_t *room)
{
    ngx_socketio_shm_t       *shm;
    ngx_socketio_shm_room_t  *r;

    r = room->shm;

    if (r == NULL) {
        return;
    }

    room->shm = NULL;
    shm = ngx_socketio_shm;

    ngx_shmtx_lock(&shm->shpool->mutex);

    ngx_rbtree_delete(&r->nsp->rooms, &r->node);
    ngx_queue_remove(&r->link);
    ngx_slab_free_locked(shm->shpool, r);

    ngx_shmtx_unlock(&shm->shpool->mutex);
}


static void
ngx_socketio_shm_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_int_t                 rc;
    ngx_rbtree_node_t       **p;
    ngx_socketio_shm_room_t  *r, *t;

    for ( ;; ) {

        if (node->key != temp->key) {
            p = (node->key < temp->key) ? &temp->left : &temp->right;

        } else {
            r = (ngx_socketio_shm_room_t *) node;
            t = (ngx_socketio_shm_room_t *) temp;

            rc = ngx_socketio_shm_room_cmp(r, t);

            if (rc == 0) {
                rc = (r->slot < t->slot) ? -1 : 1;
            }

            p = (rc < 0) ? &temp->left : &temp->right;
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


/* the same room, whatever the worker */

ngx_int_t
ngx_socketio_shm_room_cmp(ngx_socketio_shm_room_t *a,
    ngx_socketio_shm_room_t *b)
{
    if (a->node.key != b->node.key) {
        return (a->node.key < b->node.key) ? -1 : 1;
    }

    if (a->len != b->len) {
        return (a->len < b->len) ? -1 : 1;
    }

    return ngx_memcmp(a->name, b->name, a->len);
}


static void
ngx_socketio_shm_nomem(void)
{
    if (ngx_socketio_shm_nomem_logged) {
        return;
    }

    ngx_socketio_shm_nomem_logged = 1;

    ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                  "socketio: the shared memory zone is full, the room index "
                  "is incomplete from now on; raise socketio_shm_size");
}
