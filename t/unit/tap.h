
/*
 * Copyright (C) ngx_http_socketio_module authors
 *
 * A minimal TAP producer for the C unit tests.
 */


#ifndef _TAP_H_INCLUDED_
#define _TAP_H_INCLUDED_


#include <stdio.h>
#include <stdarg.h>


static int  tap_passed, tap_failed;


static void
tap_ok(int cond, const char *fmt, ...)
{
    va_list  ap;

    if (cond) {
        tap_passed++;
        printf("ok %d - ", tap_passed + tap_failed);

    } else {
        tap_failed++;
        printf("not ok %d - ", tap_passed + tap_failed);
    }

    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);

    printf("\n");
}


static int
tap_done(void)
{
    printf("1..%d\n", tap_passed + tap_failed);
    printf("# %d passed, %d failed\n", tap_passed, tap_failed);

    return tap_failed ? 1 : 0;
}


#endif /* _TAP_H_INCLUDED_ */
