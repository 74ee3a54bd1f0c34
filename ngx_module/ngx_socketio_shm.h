
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#ifndef _NGX_SOCKETIO_SHM_H_INCLUDED_
#define _NGX_SOCKETIO_SHM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_socketio.h"
#include "ngx_socketio_stats.h"


/*
 * The instance-wide view in one shared memory zone (DESIGN 2): a slot per
 * worker process with its counters, and per namespace and room the member
 * counts of each worker.  Each worker writes only its own slot and its own
 * entries; a slot left by a worker that died is cleared by the next one
 * that starts.  The zone outlives "nginx -s reload" when its size stays.
 */


/* nginx runs at most NGX_MAX_PROCESSES processes, old workers included */
#define NGX_SOCKETIO_SHM_SLOTS  NGX_MAX_PROCESSES


typedef struct ngx_socketio_shm_nsp_s   ngx_socketio_shm_nsp_t;


/* one worker process */

typedef struct {
    ngx_socketio_stats_t         stats;
    ngx_pid_t                    pid;          /* 0: a free slot */
    ngx_uint_t                   worker;       /* ngx_worker */
    ngx_uint_t                   generation;   /* of its configuration */
    time_t                       start;
    ngx_queue_t                  nsps;         /* shm_worker_t, link */
    ngx_queue_t                  rooms;        /* shm_room_t, link */
} ngx_socketio_shm_slot_t;


/* a namespace as all workers see it */

struct ngx_socketio_shm_nsp_s {
    ngx_queue_t                  queue;        /* in sh->nsps */
    ngx_queue_t                  workers;      /* shm_worker_t, queue */
    ngx_rbtree_t                 rooms;        /* shm_room_t */
    ngx_rbtree_node_t            sentinel;
    size_t                       len;
    u_char                       name[1];
};


/* the sockets one worker has in a namespace */

typedef struct {
    ngx_queue_t                  queue;        /* in nsp->workers */
    ngx_queue_t                  link;         /* in slot->nsps */
    ngx_socketio_shm_nsp_t      *nsp;
    ngx_uint_t                   slot;
    ngx_atomic_uint_t            sockets;      /* written by its worker */
} ngx_socketio_shm_worker_t;


/*
 * The members one worker has in a room.  The tree orders entries by
 * name, then slot, so that the entries of a room are neighbours.
 */

typedef struct {
    ngx_rbtree_node_t            node;         /* in nsp->rooms */
    ngx_queue_t                  link;         /* in slot->rooms */
    ngx_socketio_shm_nsp_t      *nsp;
    ngx_uint_t                   slot;
    ngx_atomic_uint_t            members;      /* written by its worker */
    size_t                       len;
    u_char                       name[1];
} ngx_socketio_shm_room_t;


typedef struct {
    ngx_uint_t                   generation;   /* configurations loaded */
    ngx_queue_t                  nsps;         /* shm_nsp_t */
    u_char                      *slots;        /* NGX_SOCKETIO_SHM_SLOTS */
} ngx_socketio_shm_sh_t;


typedef struct {
    ngx_socketio_shm_sh_t       *sh;
    ngx_slab_pool_t             *shpool;
    ngx_uint_t                   generation;   /* of this configuration */
} ngx_socketio_shm_t;


/* slots a cache line apart: every worker writes its own all the time */

#define NGX_SOCKETIO_SHM_SLOT_SIZE                                            \
    ngx_align(sizeof(ngx_socketio_shm_slot_t), NGX_CPU_CACHE_LINE)

#define ngx_socketio_shm_slot(sh, i)                                          \
    ((ngx_socketio_shm_slot_t *) ((sh)->slots                                 \
                                  + (i) * NGX_SOCKETIO_SHM_SLOT_SIZE))


/* configuration and process hooks of the module */
size_t ngx_socketio_shm_min_size(void);
ngx_shm_zone_t *ngx_socketio_shm_add(ngx_conf_t *cf, size_t size,
    void *tag);
ngx_int_t ngx_socketio_shm_init_module(ngx_shm_zone_t *zone);
void ngx_socketio_shm_init_process(ngx_shm_zone_t *zone, ngx_log_t *log);
void ngx_socketio_shm_exit_process(void);

/* what the room index of this worker tells the zone */
void ngx_socketio_shm_nsp_add(ngx_socketio_nsp_t *nsp);
void ngx_socketio_shm_room_add(ngx_socketio_nsp_t *nsp,
    ngx_socketio_room_t *room);
void ngx_socketio_shm_room_delete(ngx_socketio_room_t *room);

/* no lock: only this worker writes these counts */

#define ngx_socketio_shm_sockets(nsp)                                         \
    if ((nsp)->shm) {                                                         \
        ((ngx_socketio_shm_worker_t *) (nsp)->shm)->sockets = (nsp)->nsockets;\
    }

#define ngx_socketio_shm_room_members(room)                                   \
    if ((room)->shm) {                                                        \
        ((ngx_socketio_shm_room_t *) (room)->shm)->members = (room)->n;       \
    }

/* a slot in use by a process that is alive; the zone is locked */
ngx_int_t ngx_socketio_shm_slot_alive(ngx_socketio_shm_slot_t *slot);

/* 0: entries of the same room (of any worker) */
ngx_int_t ngx_socketio_shm_room_cmp(ngx_socketio_shm_room_t *a,
    ngx_socketio_shm_room_t *b);


#endif /* _NGX_SOCKETIO_SHM_H_INCLUDED_ */
