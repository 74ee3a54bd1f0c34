
/*
 * Copyright (C) ngx_http_socketio_module authors
 */


#ifndef _NGX_SOCKETIO_ROOMS_H_INCLUDED_
#define _NGX_SOCKETIO_ROOMS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_socketio.h"


/*
 * The rooms of this worker, per namespace: room name -> member sockets,
 * sid -> socket, and target selection for a broadcast (PROTOCOL 3.2).
 * Every socket is in the room named by its own id; that room is not
 * stored: the sid index answers for it.
 */


typedef void (*ngx_socketio_room_pt)(ngx_socketio_nsp_t *nsp,
    ngx_str_t *name);
typedef ngx_uint_t (*ngx_socketio_barrier_pt)(ngx_socketio_nsp_t *nsp);


struct ngx_socketio_nsp_s {
    ngx_str_t                 name;
    ngx_uint_t                index;          /* in this worker's list */

    ngx_rbtree_t              rooms;
    ngx_rbtree_node_t         rooms_sentinel;
    ngx_rbtree_t              sockets;
    ngx_rbtree_node_t         sockets_sentinel;
    ngx_queue_t               all;
    ngx_uint_t                nsockets;
    ngx_uint_t                nrooms;

    /* this worker's entry in the shared memory zone, if any */
    void                     *shm;

    /* ack ids of this namespace's broadcasts (Node's nsp._ids) */
    uint64_t                  ack_ids;

    /* the adapter's: its state, and what it wants to hear of */
    void                     *adapter;
    ngx_socketio_room_pt      room_added;
    ngx_socketio_room_pt      room_removed;
    ngx_socketio_barrier_pt   barrier;

    /* sockets whose CONNECT reply waits for the adapter, oldest first */
    ngx_socketio_socket_t   **waiting;
    ngx_uint_t                nwaiting;
    ngx_uint_t                waiting_size;
};


struct ngx_socketio_room_s {
    ngx_str_node_t            sn;
    ngx_queue_t               members;
    ngx_uint_t                n;
    void                     *shm;            /* in the shared index */
    u_char                    name[1];
};


struct ngx_socketio_member_s {
    ngx_queue_t               queue;          /* in room->members */
    ngx_socketio_room_t      *room;
    ngx_socketio_socket_t    *socket;
    ngx_socketio_member_t    *next;           /* the socket's, join order */
};


typedef void (*ngx_socketio_visit_pt)(ngx_socketio_socket_t *s, void *data);


ngx_socketio_nsp_t *ngx_socketio_nsp_add(ngx_str_t *name, ngx_log_t *log);
ngx_socketio_nsp_t *ngx_socketio_nsp_find(ngx_str_t *name);
ngx_array_t *ngx_socketio_nsps(void);
void ngx_socketio_nsps_free(void);

void ngx_socketio_rooms_add_socket(ngx_socketio_socket_t *s);
void ngx_socketio_rooms_remove_socket(ngx_socketio_socket_t *s);
ngx_int_t ngx_socketio_rooms_join(ngx_socketio_socket_t *s, ngx_str_t *name);
void ngx_socketio_rooms_leave(ngx_socketio_socket_t *s, ngx_str_t *name);

ngx_socketio_socket_t *ngx_socketio_rooms_socket(ngx_socketio_nsp_t *nsp,
    ngx_str_t *sid);
ngx_socketio_room_t *ngx_socketio_rooms_find(ngx_socketio_nsp_t *nsp,
    ngx_str_t *name);

/* a room with a local member: a joined room or a local socket's id */
ngx_int_t ngx_socketio_rooms_exists(ngx_socketio_nsp_t *nsp,
    ngx_str_t *name);

/*
 * Calls visit once for each local socket in any of "rooms" (all sockets
 * when there are none) and in none of "except".  visit must not change
 * rooms.  Returns the number of sockets visited.
 */
ngx_uint_t ngx_socketio_rooms_select(ngx_socketio_nsp_t *nsp,
    ngx_str_t *rooms, ngx_uint_t nrooms, ngx_str_t *except,
    ngx_uint_t nexcept, ngx_socketio_visit_pt visit, void *data);


#endif /* _NGX_SOCKETIO_ROOMS_H_INCLUDED_ */
